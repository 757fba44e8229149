package io.workerpools.jdbc;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks "never over a cap" from the holders' side: each holder records the interval during which
 * it knew it held a lease (taken after the grant returned, ended before the release was sent, with
 * {@link System#nanoTime()}, which on Linux is one monotonic clock shared by every process on the
 * machine). At no instant may more intervals overlap on a worker than its cap.
 */
final class LeaseWitness {
  /** One holding interval on a worker. */
  record Held(String worker, long fromNanos, long toNanos) {
    static Held parse(String line) {
      String[] f = line.trim().split(" ");
      return new Held(f[1], Long.parseLong(f[2]), Long.parseLong(f[3]));
    }

    String format() {
      return "HELD " + worker + " " + fromNanos + " " + toNanos;
    }
  }

  private LeaseWitness() {}

  /** The most intervals held at once on each worker. */
  static Map<String, Integer> maxConcurrent(List<Held> held) {
    Map<String, List<long[]>> edges = new TreeMap<>();
    for (Held h : held) {
      edges.computeIfAbsent(h.worker(), k -> new ArrayList<>()).add(new long[] {h.fromNanos(), +1});
      edges.get(h.worker()).add(new long[] {h.toNanos(), -1});
    }
    Map<String, Integer> max = new TreeMap<>();
    edges.forEach(
        (w, list) -> {
          // At the same instant, ends before starts: the intervals are closed inside the lease.
          list.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
          int now = 0;
          int most = 0;
          for (long[] e : list) {
            now += (int) e[1];
            most = Math.max(most, now);
          }
          max.put(w, most);
        });
    return max;
  }
}
