package io.workerpools.transport;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What a health check should do.
 *
 * @param timeout the longest the check may take; the transport reports {@code UNAVAILABLE} after it
 * @param healthScript a script to run after connecting; exit 0 is healthy, output lines on stderr
 *     (or the exit code {@link #WARNING_EXIT_CODE}) mean warnings, any other exit code is
 *     unhealthy. Empty: connectivity only.
 */
public record HealthCheckRequest(Duration timeout, Optional<ScriptRequest> healthScript) {
  /** A health script that exits with this code reports {@code HAS_WARNINGS}. */
  public static final int WARNING_EXIT_CODE = 3;

  public HealthCheckRequest {
    Objects.requireNonNull(timeout, "timeout");
    healthScript = healthScript == null ? Optional.empty() : healthScript;
  }

  /** Connectivity only, with the given timeout. */
  public static HealthCheckRequest connectivity(Duration timeout) {
    return new HealthCheckRequest(timeout, Optional.empty());
  }
}
