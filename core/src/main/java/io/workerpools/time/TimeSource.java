package io.workerpools.time;

import java.time.Instant;

/**
 * Wall-clock time (for what is stored and shown) and monotonic time (for intervals and timeouts),
 * injected everywhere so tests can use a {@link ManualTimeSource}.
 */
public interface TimeSource {
  /** Wall-clock time. */
  Instant now();

  /** Monotonic nanoseconds, as {@link System#nanoTime()}: only differences mean anything. */
  long nanoTime();

  /** The system clocks. */
  static TimeSource system() {
    return SystemTimeSource.INSTANCE;
  }
}
