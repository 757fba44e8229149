package io.workerpools.time;

import java.time.Instant;

enum SystemTimeSource implements TimeSource {
  INSTANCE;

  @Override
  public Instant now() {
    return Instant.now();
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }
}
