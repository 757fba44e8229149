package io.workerpools.benchmarks;

import io.workerpools.WorkerPools;
import io.workerpools.container.ContainerSpec;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.ScriptRequest;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The execution-container row of {@code docs/benchmarks.md}: one container step running {@code
 * true}, end to end through the facade (resolve, lease, wrapper script, {@code docker run},
 * result), on the built-in worker and on a listening agent (a real agent process over mutual TLS on
 * 127.0.0.1), against a bare {@code docker run --rm -i IMAGE true} started from the shell, in one
 * run, interleaved round by round so that machine noise hits all of them alike. Prints medians and
 * ratios (goal: ≤ 1.1× bare). A second baseline adds {@code --network none}, which every container
 * step gets by default: on an engine started with {@code --bridge=none} the bare run sets up no
 * network at all, so the plain baseline is cheaper than any isolated container.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar
 * io.workerpools.benchmarks.ContainerRoundTripHarness [rounds=20] [image=wp-containers-busybox:1]}.
 * Needs a running Docker engine and the image on it (the container tests build {@code
 * wp-containers-busybox:1}; any image with {@code /bin/sh} and {@code true} does). Never pulls.
 */
public final class ContainerRoundTripHarness {
  private ContainerRoundTripHarness() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    String image = args.length > 1 ? args[1] : "wp-containers-busybox:1";
    System.out.println("load average at the start: " + loadAverage());
    if (bare(image, "") != 0) {
      throw new IllegalStateException(
          "docker run --rm -i "
              + image
              + " true failed: is the engine running and the image on it?");
    }
    ContainerSpec spec =
        ContainerSpec.builder(image).pullPolicy(ContainerSpec.PullPolicy.NEVER).build();
    Path home = Files.createTempDirectory("wp-containers-bench");
    TentacleCertificate host = TentacleCertificate.generate("bench-host");
    try (WorkerPools builtIn = WorkerPools.create();
        AgentProcess agent = AgentProcess.listen(home.resolve("agent"), host.thumbprint());
        TentacleTransport transport = TentacleTransport.builder(host).build();
        WorkerPools viaAgent =
            WorkerPools.builder().sharedTransport(transport).probeContainerEngines(true).build()) {
      Worker w =
          Worker.builder("bench-agent")
              .pool(Infrastructure.DEFAULT_POOL_ID)
              .endpoint(
                  Endpoint.of(
                      TentacleTransport.LISTENING,
                      agent.address(),
                      Map.of("thumbprint", agent.thumbprint())))
              .build();
      viaAgent.store().putWorker(w);
      viaAgent.health().check(w.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
      long[] bare = new long[rounds];
      long[] bareNone = new long[rounds];
      long[] local = new long[rounds];
      long[] remote = new long[rounds];
      for (int i = -3; i < rounds; i++) { // three warm-up rounds
        long tn = System.nanoTime();
        if (bare(image, "--network none") != 0) {
          throw new IllegalStateException("bare docker run --network none failed");
        }
        long t0 = System.nanoTime();
        if (bare(image, "") != 0) {
          throw new IllegalStateException("bare docker run failed");
        }
        long t1 = System.nanoTime();
        step(builtIn, spec, "built-in-" + i);
        long t2 = System.nanoTime();
        step(viaAgent, spec, "agent-" + i);
        long t3 = System.nanoTime();
        if (i >= 0) {
          bare[i] = t1 - t0;
          bareNone[i] = t0 - tn;
          local[i] = t2 - t1;
          remote[i] = t3 - t2;
        }
      }
      double b = median(bare);
      double bn = median(bareNone);
      double l = median(local);
      double r = median(remote);
      System.out.printf("bare docker run --rm -i %s true: p50 %.1f ms%n", image, b / 1e6);
      System.out.printf(
          "bare docker run --rm -i --network none %s true: p50 %.1f ms (%.2fx)%n",
          image, bn / 1e6, bn / b);
      System.out.printf(
          "container step, built-in worker:  p50 %.1f ms (%.2fx bare, %.2fx bare --network none)%n",
          l / 1e6, l / b, l / bn);
      System.out.printf(
          "container step, listening agent: p50 %.1f ms (%.2fx bare, %.2fx bare --network none)%n",
          r / 1e6, r / b, r / bn);
    } finally {
      deleteTree(home.toFile());
    }
    System.out.println("load average at the end: " + loadAverage());
  }

  private static void step(WorkerPools pools, ContainerSpec spec, String id) {
    StepResult r =
        pools.run(
            Step.builder(
                    id, ScriptRequest.builder(ScriptSyntax.BASH, "true").container(spec).build())
                .build());
    if (!r.succeeded()) {
      throw new IllegalStateException("container step failed: " + r);
    }
  }

  private static int bare(String image, String options) throws Exception {
    Process p =
        new ProcessBuilder("sh", "-c", "docker run --rm -i " + options + " \"$0\" true", image)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }

  private static double median(long[] xs) {
    long[] s = xs.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
  }

  private static String loadAverage() throws Exception {
    return Files.readString(Path.of("/proc/loadavg")).trim();
  }

  private static void deleteTree(File f) {
    File[] children = Files.isSymbolicLink(f.toPath()) ? null : f.listFiles();
    if (children != null) {
      for (File c : children) {
        deleteTree(c);
      }
    }
    f.delete();
  }
}
