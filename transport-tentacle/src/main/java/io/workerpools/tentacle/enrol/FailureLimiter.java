package io.workerpools.tentacle.enrol;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Bounds failed enrolments per fixed window (a minute): at most {@code perAddress} from one address
 * and {@code overall} from all; once over, connections are refused without looking at their token,
 * so the port cannot be used to try tokens. Memory is bounded: at most {@link #MAX_ADDRESSES}
 * addresses are counted per window (more only count towards {@code overall}).
 */
final class FailureLimiter {
  static final int MAX_ADDRESSES = 4096;
  static final Duration WINDOW = Duration.ofMinutes(1);

  private final int perAddress;
  private final int overall;
  private final Clock clock;
  private final Map<InetAddress, Integer> counts = new HashMap<>();
  private long windowStart;
  private int total;

  FailureLimiter(int perAddress, int overall, Clock clock) {
    this.perAddress = perAddress;
    this.overall = overall;
    this.clock = clock;
    this.windowStart = clock.millis();
  }

  /** Whether connections from {@code a} are refused unheard for the rest of this window. */
  synchronized boolean blocked(InetAddress a) {
    roll();
    return total >= overall || counts.getOrDefault(a, 0) >= perAddress;
  }

  /** Counts one failed enrolment from {@code a}. */
  synchronized void failed(InetAddress a) {
    roll();
    total++;
    if (counts.containsKey(a) || counts.size() < MAX_ADDRESSES) {
      counts.merge(a, 1, Integer::sum);
    }
  }

  private void roll() {
    long now = clock.millis();
    if (now - windowStart >= WINDOW.toMillis() || now < windowStart) {
      windowStart = now;
      counts.clear();
      total = 0;
    }
  }
}
