package io.workerpools.testing;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits on a condition with a deadline, for tests on real threads: bounded polling, never a fixed
 * sleep. Fails with an {@link AssertionError} naming what was awaited when the deadline passes.
 *
 * <pre>{@code
 * Await.until("the worker to be healthy", Duration.ofSeconds(5), () -> monitor.isHealthy(id));
 * }</pre>
 */
public final class Await {
  /** The deadline of {@link #until(String, BooleanSupplier)}. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private static final long POLL_NANOS = Duration.ofMillis(5).toNanos();

  private Await() {}

  /**
   * Polls {@code condition} every few milliseconds until it holds, or fails once {@code timeout}
   * has passed.
   *
   * @param what what the test waits for, for the failure message ("the lease to expire")
   * @param timeout how long to wait at most; must be positive
   * @param condition checked on the calling thread; must not block
   * @throws AssertionError if {@code condition} still does not hold after {@code timeout}
   */
  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    Objects.requireNonNull(what, "what");
    Objects.requireNonNull(condition, "condition");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, but was " + timeout);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("gave up after " + timeout + " waiting for: " + what);
      }
      LockSupport.parkNanos(POLL_NANOS);
    }
  }

  /** {@link #until(String, Duration, BooleanSupplier)} with {@link #DEFAULT_TIMEOUT}. */
  public static void until(String what, BooleanSupplier condition) {
    until(what, DEFAULT_TIMEOUT, condition);
  }
}
