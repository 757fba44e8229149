package io.workerpools.benchmarks;

import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Worker;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * B3, interleaved: one spawn of each variant in turn (in a new random order each round), repeated,
 * in one JVM, so that every variant sees the same machine load (on a shared 2-core machine JMH's
 * one-benchmark-after-another order lets load swings masquerade as differences). Prints min, p25
 * and p50 per variant and the ratios of the built-in worker (the persistent launcher; one spawn per
 * script, the default) to each baseline.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.workerpools.benchmarks.LocalSpawnHarness [rounds]
 * </pre>
 */
public final class LocalSpawnHarness {
  private LocalSpawnHarness() {}

  private interface Variant {
    void run() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    System.out.println("launch mechanism: " + LocalProcessTransport.launchMechanism());
    Path base = Files.createTempDirectory("wp-spawn");
    Path script = base.resolve("true.sh");
    Files.writeString(script, "/bin/true\n");
    ScriptRequest trueStep = ScriptRequest.bash("/bin/true");
    try (LocalProcessTransport transport =
            LocalProcessTransport.builder()
                .baseDirectory(base.resolve("a"))
                .startMode(LocalProcessTransport.StartMode.PERSISTENT_LAUNCHER)
                .build();
        LocalProcessTransport spawn =
            LocalProcessTransport.builder()
                .baseDirectory(base.resolve("b"))
                .startMode(LocalProcessTransport.StartMode.SPAWN_PER_SCRIPT)
                .build()) {
      Map<String, Variant> variants = new LinkedHashMap<>();
      variants.put("bare /bin/true", () -> new ProcessBuilder("/bin/true").start().waitFor());
      variants.put(
          "bare bash true.sh",
          () -> new ProcessBuilder("bash", script.toString()).start().waitFor());
      variants.put(
          "bare setsid bash true.sh",
          () -> new ProcessBuilder("setsid", "bash", script.toString()).start().waitFor());
      variants.put(
          "built-in worker, launcher",
          () ->
              transport
                  .start(Worker.BUILT_IN, trueStep, LogSink.discard())
                  .result()
                  .toCompletableFuture()
                  .join());
      variants.put(
          "built-in, spawn per script",
          () ->
              spawn
                  .start(Worker.BUILT_IN, trueStep, LogSink.discard())
                  .result()
                  .toCompletableFuture()
                  .join());
      Map<String, List<Long>> samples = new LinkedHashMap<>();
      variants.keySet().forEach(k -> samples.put(k, new ArrayList<>()));
      List<Map.Entry<String, Variant>> order = new ArrayList<>(variants.entrySet());
      java.util.Random shuffle = new java.util.Random(42);
      for (int r = 0; r < rounds; r++) {
        // A new order each round: what one variant leaves behind (a process still exiting, sockets
        // closing) falls on every other variant alike, not always on the one after it.
        Collections.shuffle(order, shuffle);
        for (Map.Entry<String, Variant> v : order) {
          long t0 = System.nanoTime();
          v.getValue().run();
          long t = System.nanoTime() - t0;
          if (r >= rounds / 5) { // the first fifth is warm-up
            samples.get(v.getKey()).add(t);
          }
        }
      }
      Map<String, Double> p50 = new LinkedHashMap<>();
      for (Map.Entry<String, List<Long>> e : samples.entrySet()) {
        List<Long> s = new ArrayList<>(e.getValue());
        Collections.sort(s);
        double median = s.get(s.size() / 2) / 1e6;
        p50.put(e.getKey(), median);
        System.out.printf(
            "%-28s min %6.2f ms  p25 %6.2f ms  p50 %6.2f ms%n",
            e.getKey(), s.get(0) / 1e6, s.get(s.size() / 4) / 1e6, median);
      }
      for (String v : List.of("built-in worker, launcher", "built-in, spawn per script")) {
        double builtIn = p50.get(v);
        System.out.printf(
            "p50 ratios, %s: / bare /bin/true %.2f, / bare bash %.2f, / bare setsid bash %.2f%n",
            v,
            builtIn / p50.get("bare /bin/true"),
            builtIn / p50.get("bare bash true.sh"),
            builtIn / p50.get("bare setsid bash true.sh"));
      }
      if (!transport.launcherActive()) {
        System.out.println("WARNING: the launcher did not start; both built-in rows spawn");
      }
    } finally {
      try (Stream<Path> all = Files.walk(base)) {
        all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
