package io.workerpools.health;

import java.util.random.RandomGenerator;

/**
 * Where a worker's next check falls, so that workers checked together do not stay together: pure
 * arithmetic over the interval, the policy's jitter and a random source.
 */
final class Phasing {
  private Phasing() {}

  /**
   * A worker that already had a fresh report ({@code age} old) when the monitor started: its first
   * check falls at a random point of what is left of its interval.
   */
  static long adoptedDelay(long intervalNanos, long ageNanos, RandomGenerator random) {
    return (long) (random.nextDouble() * (intervalNanos - ageNanos));
  }

  /**
   * The first check came at once (a new worker, a cold start): the next falls at a random point of
   * the interval.
   */
  static long afterFirstDelay(long intervalNanos, RandomGenerator random) {
    return (long) (intervalNanos * (1 - random.nextDouble()));
  }

  /** From then on: the interval, moved at random by up to {@code jitter × interval} either way. */
  static long nextDelay(long intervalNanos, double jitter, RandomGenerator random) {
    return (long) (intervalNanos * (1 + jitter * (2 * random.nextDouble() - 1)));
  }
}
