package io.workerpools.resolve;

import io.workerpools.model.WorkerId;
import java.util.Objects;

/**
 * Why one worker of the chosen pool was not given the step.
 *
 * @param worker the worker
 * @param workerName its name
 * @param reason why it was passed over
 * @param detail the particulars ("UNAVAILABLE since 2026-11-27T10:00:00Z: connection refused", "3
 *     of 3 leases held", "runs bash only, the step is powershell")
 */
public record PassedOver(WorkerId worker, String workerName, Reason reason, String detail) {
  /** Why a worker was passed over. */
  public enum Reason {
    DISABLED,
    UNHEALTHY,
    WRONG_SYNTAX,
    AT_CAP,
    DRAINING,
    /**
     * The step runs in an execution container and the worker's health details report no reachable
     * container engine.
     */
    NO_CONTAINER_ENGINE;

    /** Whether waiting can end this reason by itself (a lease ends, a health check passes). */
    public boolean mayClearByWaiting() {
      return this == AT_CAP || this == UNHEALTHY;
    }
  }

  public PassedOver {
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(reason, "reason");
    detail = detail == null ? "" : detail;
  }

  @Override
  public String toString() {
    return workerName + " (" + worker + "): " + reason + (detail.isEmpty() ? "" : ", " + detail);
  }
}
