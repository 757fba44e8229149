package io.workerpools.benchmarks;

import io.workerpools.local.LocalProcessTransport;
import io.workerpools.local.LocalProcessTransport.StartMode;
import io.workerpools.model.Worker;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * B3 in one run, both rows of the issue, with the machine's load average before and after (the
 * machine is shared: compare the ratios and medians, not the absolute times):
 *
 * <ol>
 *   <li><b>Burst</b>: N concurrent {@code sleep 1} steps on the built-in worker in its default
 *       start mode (and, for comparison, the opt-in spawn mode) vs a bare {@link ProcessBuilder}
 *       burst of N {@code bash -c 'sleep 1'}; wall time until all have ended, and the JVM's peak
 *       thread count. Rounds alternate the variants' order; medians over the rounds.
 *   <li><b>One bash step</b> vs a bare {@code ProcessBuilder} spawn of {@code bash script.sh} with
 *       the same body, interleaved in a new random order each round; p50 per variant.
 * </ol>
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.workerpools.benchmarks.LocalB3Harness \
 *     [burst steps=1000] [burst rounds=3] [single rounds=300]
 * </pre>
 */
public final class LocalB3Harness {
  private LocalB3Harness() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--one-burst")) {
      oneBurst(args[1], Integer.parseInt(args[2]));
      return;
    }
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int burstRounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int singleRounds = args.length > 2 ? Integer.parseInt(args[2]) : 300;
    System.out.println("load average at start: " + loadAverage());
    System.out.println(
        "launch mechanism "
            + LocalProcessTransport.launchMechanism()
            + ", JDK "
            + System.getProperty("java.vm.version")
            + ", CPUs "
            + Runtime.getRuntime().availableProcessors());
    burst(n, burstRounds);
    Path base = Files.createTempDirectory("wp-b3");
    try (LocalProcessTransport launcher =
            LocalProcessTransport.builder().baseDirectory(base.resolve("launcher")).build();
        LocalProcessTransport spawn =
            LocalProcessTransport.builder()
                .baseDirectory(base.resolve("spawn"))
                .startMode(StartMode.SPAWN_PER_SCRIPT)
                .build()) {
      single(singleRounds, base, launcher, spawn);
      if (!launcher.launcherActive()) {
        System.out.println("WARNING: the launcher did not start; the default rows spawned");
      }
    } finally {
      try (Stream<Path> all = Files.walk(base)) {
        all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    System.out.println("load average at end: " + loadAverage());
  }

  private static final List<String> BURSTS = List.of("bare", "launcher", "spawn");

  /**
   * Each burst in a JVM of its own (so that no thread pool is warm from an earlier burst: the peak
   * counts the threads the burst itself needed), rounds rotating the order.
   */
  private static void burst(int n, int rounds) throws Exception {
    Map<String, List<Long>> wall = new LinkedHashMap<>();
    Map<String, List<Integer>> added = new LinkedHashMap<>();
    BURSTS.forEach(k -> wall.put(k, new ArrayList<>()));
    BURSTS.forEach(k -> added.put(k, new ArrayList<>()));
    List<String> order = new ArrayList<>(BURSTS);
    for (int r = 0; r < rounds; r++) {
      if (r > 0) {
        Collections.rotate(order, 1);
      }
      for (String v : order) {
        List<String> cmd =
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                LocalB3Harness.class.getName(),
                "--one-burst",
                v,
                Integer.toString(n));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor();
        String last = out.substring(out.lastIndexOf('\n') + 1);
        String[] f = last.split(" ");
        if (!f[0].equals("RESULT")) {
          throw new IllegalStateException("burst " + v + " failed: " + out);
        }
        wall.get(v).add(Long.parseLong(f[1]));
        added.get(v).add(Integer.parseInt(f[2]));
        System.out.printf(
            "  round %d  %-9s %6d ms, threads at peak +%s (load %s)%n",
            r + 1, v, Long.parseLong(f[1]) / 1_000_000, f[2], loadAverage());
      }
    }
    System.out.printf("burst of %d x sleep 1, medians over %d rounds:%n", n, rounds);
    long bare = median(wall.get("bare"));
    for (String v : BURSTS) {
      long m = median(wall.get(v));
      System.out.printf(
          "  %-48s wall %6d ms (%.2fx bare), threads at peak +%d%n",
          describe(v), m / 1_000_000, (double) m / bare, medianInt(added.get(v)));
    }
  }

  private static String describe(String v) {
    return switch (v) {
      case "bare" -> "bare ProcessBuilder bash -c 'sleep 1'";
      case "launcher" -> "built-in worker, default (PERSISTENT_LAUNCHER)";
      default -> "built-in worker, SPAWN_PER_SCRIPT";
    };
  }

  /** In a fresh JVM: one burst; prints RESULT wall-nanos peak-threads-added. */
  private static void oneBurst(String variant, int n) throws Exception {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    Path base = Files.createTempDirectory("wp-b3-burst");
    try (LocalProcessTransport t =
        LocalProcessTransport.builder()
            .baseDirectory(base.resolve("steps"))
            .startMode(
                variant.equals("spawn")
                    ? StartMode.SPAWN_PER_SCRIPT
                    : StartMode.PERSISTENT_LAUNCHER)
            .build()) {
      if (!variant.equals("bare")) {
        for (int i = 0; i < 20; i++) { // warm up: the launcher and the helpers exist from here on
          t.start(Worker.BUILT_IN, ScriptRequest.bash("true"), LogSink.discard())
              .result()
              .toCompletableFuture()
              .join();
        }
      } else {
        for (int i = 0; i < 20; i++) {
          new ProcessBuilder("bash", "-c", "true").start().waitFor();
        }
      }
      int before = threads.getThreadCount();
      threads.resetPeakThreadCount();
      long t0 = System.nanoTime();
      if (variant.equals("bare")) {
        List<CompletableFuture<Process>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          all.add(new ProcessBuilder("bash", "-c", "sleep 1").start().onExit());
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
      } else {
        steps(t, ScriptRequest.bash("sleep 1"), n);
        if (variant.equals("launcher") && !t.launcherActive()) {
          System.out.println("WARNING: the launcher was not active");
        }
      }
      long wall = System.nanoTime() - t0;
      System.out.println("RESULT " + wall + " " + (threads.getPeakThreadCount() - before));
    } finally {
      try (Stream<Path> all = Files.walk(base)) {
        all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void steps(LocalProcessTransport t, ScriptRequest r, int n) {
    List<ScriptExecution> all = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      all.add(t.start(Worker.BUILT_IN, r, LogSink.discard()));
    }
    int failed = 0;
    for (ScriptExecution e : all) {
      ScriptResult res = e.result().toCompletableFuture().join();
      if (res.exitCode().orElse(-1) != 0) {
        failed++;
      }
    }
    if (failed > 0) {
      System.out.println("  WARNING: " + failed + " steps failed");
    }
  }

  private interface Single {
    void run() throws Exception;
  }

  private static void single(
      int rounds, Path base, LocalProcessTransport launcher, LocalProcessTransport spawn)
      throws Exception {
    String body = "true\n";
    Path script = base.resolve("script.sh");
    Files.writeString(script, body);
    ScriptRequest step = ScriptRequest.bash(body);
    Map<String, Single> variants = new LinkedHashMap<>();
    variants.put(
        "bare ProcessBuilder bash script.sh",
        () -> new ProcessBuilder("bash", script.toString()).start().waitFor());
    variants.put(
        "built-in worker (default: launcher)",
        () ->
            launcher
                .start(Worker.BUILT_IN, step, LogSink.discard())
                .result()
                .toCompletableFuture()
                .join());
    variants.put(
        "built-in worker (SPAWN_PER_SCRIPT)",
        () ->
            spawn
                .start(Worker.BUILT_IN, step, LogSink.discard())
                .result()
                .toCompletableFuture()
                .join());
    Map<String, List<Long>> samples = new LinkedHashMap<>();
    variants.keySet().forEach(k -> samples.put(k, new ArrayList<>()));
    List<String> order = new ArrayList<>(variants.keySet());
    Random shuffle = new Random(42);
    for (int r = 0; r < rounds; r++) {
      Collections.shuffle(order, shuffle);
      for (String v : order) {
        long t0 = System.nanoTime();
        variants.get(v).run();
        long t = System.nanoTime() - t0;
        if (r >= rounds / 5) { // the first fifth is warm-up
          samples.get(v).add(t);
        }
      }
    }
    System.out.printf("one bash step, %d interleaved rounds (first fifth warm-up):%n", rounds);
    double bare = median(samples.get("bare ProcessBuilder bash script.sh")) / 1e6;
    for (String v : variants.keySet()) {
      List<Long> s = new ArrayList<>(samples.get(v));
      Collections.sort(s);
      double p50 = s.get(s.size() / 2) / 1e6;
      System.out.printf(
          "  %-38s min %6.2f ms  p25 %6.2f ms  p50 %6.2f ms  (p50 %.2fx bare)%n",
          v, s.get(0) / 1e6, s.get(s.size() / 4) / 1e6, p50, p50 / bare);
    }
  }

  private static long median(List<Long> values) {
    List<Long> s = new ArrayList<>(values);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static int medianInt(List<Integer> values) {
    List<Integer> s = new ArrayList<>(values);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "unknown (" + e + ")";
    }
  }
}
