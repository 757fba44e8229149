package io.workerpools.health;

import io.workerpools.ConfigurationException;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.ScriptRequest;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a worker is health-checked: how often, how long one check may take, how many consecutive
 * failed checks flip an eligible worker to {@link io.workerpools.model.HealthStatus#UNAVAILABLE},
 * connectivity only or a health script, and whether the worker may be offline without alarm.
 * Immutable; build with {@link #builder()} or take {@link #defaults()}.
 *
 * <p>What a check's outcome does (see {@code docs/health.md} for why):
 *
 * <ul>
 *   <li>An answer ({@code HEALTHY}, {@code HAS_WARNINGS}, or {@code UNHEALTHY} from a failed health
 *       script) is applied at once and resets the failure count: the worker itself said so.
 *   <li>A failure (no answer: unreachable, an {@code UNAVAILABLE} report, an exception, or no
 *       answer within {@link #timeout()}) counts. An eligible worker keeps its status until {@link
 *       #failuresBeforeUnavailable()} consecutive failures; a worker that is not eligible anyway
 *       (never checked, unhealthy) becomes {@code UNAVAILABLE} on the first.
 *   <li>{@link #mayBeOffline()}: the worker still becomes {@code UNAVAILABLE} (and gets no work),
 *       but the change is marked {@linkplain HealthStatusChange#offlineAllowed() allowed} and
 *       logged at INFO, not WARN, so hosts do not raise alarms for laptops and scale-to-zero
 *       machines.
 * </ul>
 *
 * @param interval time from the end of one scheduled check to the start of the next (before jitter)
 * @param timeout the longest one check may take; a check that has not answered by then is a failure
 * @param failuresBeforeUnavailable consecutive failures that flip an eligible worker to {@code
 *     UNAVAILABLE}; 1 flips it on the first failure
 * @param jitter the fraction of {@code interval} by which each next check is moved at random,
 *     earlier or later, so checks of many workers spread out instead of firing together (0 to 0.5)
 * @param healthScript a script to run after connecting (exit 0 healthy, exit {@link
 *     HealthCheckRequest#WARNING_EXIT_CODE} or stderr output warnings, any other exit unhealthy);
 *     empty: connectivity only
 * @param mayBeOffline whether the worker's absence is expected rather than an error
 */
public record HealthPolicy(
    Duration interval,
    Duration timeout,
    int failuresBeforeUnavailable,
    double jitter,
    Optional<ScriptRequest> healthScript,
    boolean mayBeOffline) {

  /** Default {@link #interval()}: one minute. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(1);

  /** Default {@link #timeout()}: ten seconds. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  /** Default {@link #failuresBeforeUnavailable()}: two, so one lost packet never flips a worker. */
  public static final int DEFAULT_FAILURES_BEFORE_UNAVAILABLE = 2;

  /** Default {@link #jitter()}: ten percent of the interval either way. */
  public static final double DEFAULT_JITTER = 0.1;

  /** The largest allowed {@link #jitter()}. */
  public static final double MAX_JITTER = 0.5;

  private static final HealthPolicy DEFAULTS = builder().build();

  public HealthPolicy {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(timeout, "timeout");
    if (interval.isNegative() || interval.isZero()) {
      throw new ConfigurationException(
          "healthPolicy.interval", "must be positive (for example PT1M) but was " + interval);
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new ConfigurationException(
          "healthPolicy.timeout", "must be positive (for example PT10S) but was " + timeout);
    }
    if (timeout.compareTo(interval) > 0) {
      throw new ConfigurationException(
          "healthPolicy.timeout",
          "must not be longer than the interval ("
              + interval
              + ") but was "
              + timeout
              + "; shorten the timeout or lengthen the interval");
    }
    if (failuresBeforeUnavailable < 1) {
      throw new ConfigurationException(
          "healthPolicy.failuresBeforeUnavailable",
          "must be at least 1 but was " + failuresBeforeUnavailable);
    }
    if (!(jitter >= 0 && jitter <= MAX_JITTER)) {
      throw new ConfigurationException(
          "healthPolicy.jitter", "must be between 0 and " + MAX_JITTER + " but was " + jitter);
    }
    healthScript = healthScript == null ? Optional.empty() : healthScript;
  }

  /** Every option at its default: connectivity only, checked every minute. */
  public static HealthPolicy defaults() {
    return DEFAULTS;
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this policy's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.interval = interval;
    b.timeout = timeout;
    b.failuresBeforeUnavailable = failuresBeforeUnavailable;
    b.jitter = jitter;
    b.healthScript = healthScript;
    b.mayBeOffline = mayBeOffline;
    return b;
  }

  /**
   * The request one check sends. A health script gets a fresh execution id per check, because
   * transports treat a repeated id as a retry and would not run the script again.
   */
  public HealthCheckRequest request(String executionId) {
    return new HealthCheckRequest(timeout, healthScript.map(s -> s.withExecutionId(executionId)));
  }

  /** Builds a {@link HealthPolicy}; every value is validated by {@link #build()}. */
  public static final class Builder {
    private Duration interval = DEFAULT_INTERVAL;
    private Duration timeout = DEFAULT_TIMEOUT;
    private int failuresBeforeUnavailable = DEFAULT_FAILURES_BEFORE_UNAVAILABLE;
    private double jitter = DEFAULT_JITTER;
    private Optional<ScriptRequest> healthScript = Optional.empty();
    private boolean mayBeOffline;

    private Builder() {}

    public Builder interval(Duration interval) {
      this.interval = Objects.requireNonNull(interval, "interval");
      return this;
    }

    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder failuresBeforeUnavailable(int failures) {
      this.failuresBeforeUnavailable = failures;
      return this;
    }

    public Builder jitter(double fraction) {
      this.jitter = fraction;
      return this;
    }

    /** Run this script on each check (its execution id is replaced per check). */
    public Builder healthScript(ScriptRequest script) {
      this.healthScript = Optional.of(Objects.requireNonNull(script, "script"));
      return this;
    }

    /** Check connectivity only (the default). */
    public Builder connectivityOnly() {
      this.healthScript = Optional.empty();
      return this;
    }

    public Builder mayBeOffline(boolean mayBeOffline) {
      this.mayBeOffline = mayBeOffline;
      return this;
    }

    public HealthPolicy build() {
      return new HealthPolicy(
          interval, timeout, failuresBeforeUnavailable, jitter, healthScript, mayBeOffline);
    }
  }
}
