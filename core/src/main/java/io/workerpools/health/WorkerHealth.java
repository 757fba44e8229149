package io.workerpools.health;

import io.workerpools.model.HealthStatus;
import io.workerpools.model.WorkerId;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the monitor knows of one worker now.
 *
 * @param worker the worker
 * @param status its status
 * @param since when it entered that status (when the monitor first saw it, for {@code UNKNOWN})
 * @param consecutiveFailures failed checks in a row since the last answer
 * @param lastCheckedAt when the last check finished; empty if never checked by this monitor
 * @param message the last check's message
 */
public record WorkerHealth(
    WorkerId worker,
    HealthStatus status,
    Instant since,
    int consecutiveFailures,
    Optional<Instant> lastCheckedAt,
    String message) {
  public WorkerHealth {
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(since, "since");
    lastCheckedAt = lastCheckedAt == null ? Optional.empty() : lastCheckedAt;
    message = message == null ? "" : message;
  }
}
