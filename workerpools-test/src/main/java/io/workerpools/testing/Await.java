package io.workerpools.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits on a condition with a deadline, for tests: bounded polling, never a fixed sleep. Fails with
 * the given message when the deadline passes.
 */
public final class Await {
  private Await() {}

  /** Polls {@code condition} every few milliseconds until it holds or {@code timeout} passes. */
  public static void until(BooleanSupplier condition, Duration timeout, String whatWeWaitedFor) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("gave up after " + timeout + " waiting for: " + whatWeWaitedFor);
      }
      LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
    }
  }
}
