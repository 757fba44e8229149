package io.workerpools.reliability;

import io.workerpools.testing.Await;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Bounded waiting on a condition, for tests: polls every few milliseconds up to a deadline. */
final class Awaiting {
  private Awaiting() {}

  /** Waits until {@code condition} holds; fails naming what was awaited once {@code max} passed. */
  static void until(BooleanSupplier condition, Duration max, String what) {
    Await.until(what, max, condition);
  }

  /** Waits until {@code condition} holds or {@code max} passes; returns whether it held. */
  static boolean within(BooleanSupplier condition, Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      LockSupport.parkNanos(10_000_000L);
    }
    return true;
  }
}
