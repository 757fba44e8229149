package io.workerpools.time;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/** A settable clock for tests: time moves only when {@link #advance} is called. Thread-safe. */
public final class ManualTimeSource implements TimeSource {
  private final Instant origin;
  private final AtomicLong nanos = new AtomicLong();

  public ManualTimeSource(Instant origin) {
    this.origin = Objects.requireNonNull(origin, "origin");
  }

  public ManualTimeSource() {
    this(Instant.parse("2026-01-01T00:00:00Z"));
  }

  @Override
  public Instant now() {
    return origin.plusNanos(nanos.get());
  }

  @Override
  public long nanoTime() {
    return nanos.get();
  }

  /** Moves both clocks forward. */
  public void advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("cannot move time backwards: " + d);
    }
    nanos.addAndGet(d.toNanos());
  }
}
