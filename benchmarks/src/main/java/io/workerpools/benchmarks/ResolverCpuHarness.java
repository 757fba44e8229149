package io.workerpools.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * B1 measured in CPU time: the same scenarios as {@link ResolverBenchmark} (indexed and scanning
 * baseline) and {@link ResolverStoreFloorBenchmark}, timed with the calling thread's CPU clock and
 * allocation counter instead of the wall clock. On a shared, overloaded machine JMH's wall-clock
 * figures measure the scheduler more than the code; CPU time per operation does not count the time
 * the thread waited for a core. Each case runs in this one JVM, interleaved round by round, so the
 * baseline and the figure share conditions; medians over rounds are reported.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.workerpools.benchmarks.ResolverCpuHarness \
 *     [rounds] [opsPerRound] [indexed|scan]
 * </pre>
 */
public final class ResolverCpuHarness {
  private ResolverCpuHarness() {}

  private interface Op {
    Object run();
  }

  private record Case(String name, Op op, AutoCloseable close) {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    int ops = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
    String only = args.length > 2 ? args[2] : "";
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    List<Case> cases = new ArrayList<>();
    for (int n : new int[] {1, 10_000}) {
      ResolverStoreFloorBenchmark floor = new ResolverStoreFloorBenchmark();
      floor.workers = n;
      floor.setUp();
      cases.add(
          new Case(
              String.format(Locale.ROOT, "store floor workers=%-6d claim+release", n),
              floor::claimAndRelease,
              () -> {}));
    }
    int[][] shapes = {{10_000, 10}, {10_000, 100}, {10_000, 1000}, {1_000, 100}, {100_000, 100}};
    for (int[] shape : shapes) {
      for (String selection : List.of("indexed", "scan")) {
        if (!only.isEmpty() && !selection.equals(only)) {
          continue;
        }
        ResolverBenchmark b = new ResolverBenchmark();
        b.workers = shape[0];
        b.pools = shape[1];
        b.selection = selection;
        b.setUp();
        String shapeName =
            String.format(
                Locale.ROOT, "%-7s workers=%-6d pools=%-4d", selection, shape[0], shape[1]);
        cases.add(new Case(shapeName + " lease", b::resolveLeaseRelease, b::tearDown));
        cases.add(new Case(shapeName + " resolve", b::resolveOnly, () -> {}));
      }
    }
    Object sink = null;
    // Warm-up: every case, twice a round's worth.
    for (Case c : cases) {
      int n = c.name.startsWith("scan") ? ops / 5 : 2 * ops;
      for (int i = 0; i < n; i++) {
        sink = c.op.run();
      }
    }
    double[][] cpu = new double[cases.size()][rounds];
    double[][] bytes = new double[cases.size()][rounds];
    long tid = Thread.currentThread().getId();
    for (int r = 0; r < rounds; r++) {
      for (int k = 0; k < cases.size(); k++) {
        Case c = cases.get(k);
        int n = c.name.startsWith("scan") ? ops / (c.name.contains("100000") ? 50 : 10) : ops;
        long b0 = mx.getThreadAllocatedBytes(tid);
        long t0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
          sink = c.op.run();
        }
        long t1 = mx.getCurrentThreadCpuTime();
        long b1 = mx.getThreadAllocatedBytes(tid);
        cpu[k][r] = (t1 - t0) / (double) n;
        bytes[k][r] = (b1 - b0) / (double) n;
      }
    }
    System.out.printf(
        Locale.ROOT,
        "JDK %s, %d rounds x %d ops, CPU time of the calling thread%n",
        System.getProperty("java.version"),
        rounds,
        ops);
    System.out.printf(
        Locale.ROOT, "%-48s %14s %14s %10s%n", "case", "median ns/op", "min ns/op", "B/op");
    for (int k = 0; k < cases.size(); k++) {
      double[] c = cpu[k].clone();
      Arrays.sort(c);
      double[] a = bytes[k].clone();
      Arrays.sort(a);
      System.out.printf(
          Locale.ROOT,
          "%-48s %14.1f %14.1f %10.0f%n",
          cases.get(k).name,
          c[c.length / 2],
          c[0],
          a[a.length / 2]);
    }
    for (Case c : cases) {
      c.close.close();
    }
    if (sink == null) {
      System.out.println();
    }
  }
}
