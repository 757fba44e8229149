package io.workerpools.health;

import io.workerpools.model.HealthStatus;
import io.workerpools.model.WorkerId;
import java.time.Instant;
import java.util.Objects;

/**
 * A worker's health status changed. Published once per change.
 *
 * @param worker the worker
 * @param previous the status before ({@code UNKNOWN} before the first check)
 * @param current the status now
 * @param reason why, in words (the check's message, or what failed)
 * @param at when the change was seen
 * @param offlineAllowed true when the worker became {@code UNAVAILABLE} and its policy says it
 *     {@link HealthPolicy#mayBeOffline() may be offline}: hosts should not raise an alarm for it
 */
public record HealthStatusChange(
    WorkerId worker,
    HealthStatus previous,
    HealthStatus current,
    String reason,
    Instant at,
    boolean offlineAllowed) {
  public HealthStatusChange {
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(previous, "previous");
    Objects.requireNonNull(current, "current");
    Objects.requireNonNull(at, "at");
    reason = reason == null ? "" : reason;
  }
}
