package io.workerpools.health;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the monitor's timed work: waking up when a check falls due, and timing out checks. One small
 * seam so tests can drive the monitor with a manual clock; hosts pass a {@link
 * ScheduledExecutorService} through {@link #of}. The monitor starts transport checks from the tasks
 * it schedules here, never from a transport's or the store's thread.
 */
@FunctionalInterface
public interface HealthScheduler {

  /**
   * Runs {@code task} once after {@code delay} (zero: as soon as possible) and returns a handle to
   * cancel it. Must not run the task on the calling thread before returning.
   */
  Cancellable schedule(Runnable task, Duration delay);

  /** A handle to a scheduled task. */
  @FunctionalInterface
  interface Cancellable {
    /** Stops the task from running if it has not started; does nothing otherwise. */
    void cancel();
  }

  /** A scheduler backed by the given executor (which the caller owns and shuts down). */
  static HealthScheduler of(ScheduledExecutorService executor) {
    Objects.requireNonNull(executor, "executor");
    return (task, delay) -> {
      ScheduledFuture<?> f = executor.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    };
  }
}
