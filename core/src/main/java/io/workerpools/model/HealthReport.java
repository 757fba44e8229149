package io.workerpools.model;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome of one health check.
 *
 * @param status the status the check found
 * @param checkedAt when the check finished
 * @param latency how long the check took (zero if not measured)
 * @param message what was found, in words (empty when healthy)
 * @param details extra facts, for example {@code os} or {@code freeDiskBytes}
 */
public record HealthReport(
    HealthStatus status,
    Instant checkedAt,
    Duration latency,
    String message,
    Map<String, String> details) {
  public HealthReport {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(checkedAt, "checkedAt");
    latency = latency == null ? Duration.ZERO : latency;
    message = message == null ? "" : message;
    details = details == null ? Map.of() : Map.copyOf(details);
  }

  public static HealthReport of(HealthStatus status, Instant at, Duration latency, String message) {
    return new HealthReport(status, at, latency, message, Map.of());
  }

  /** The status of a worker never checked yet. */
  public static HealthReport unknown(Instant at) {
    return new HealthReport(HealthStatus.UNKNOWN, at, Duration.ZERO, "not checked yet", Map.of());
  }
}
