package io.workerpools.benchmarks;

import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import io.workerpools.ssh.SshCredentials;
import io.workerpools.ssh.SshEndpoint;
import io.workerpools.ssh.SshTransport;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Benchmark B4, a harness rather than JMH because it needs a live OpenSSH server: it starts its own
 * {@code sshd} on 127.0.0.1 (a free port, a generated host key, everything in a temporary
 * directory, stopped at the end) and measures, in one run against that server:
 *
 * <ol>
 *   <li>sequential {@code true} steps through {@link SshTransport} against {@code ssh -o
 *       ControlMaster=auto -o ControlPath=...} {@code true}, interleaved one by one so that machine
 *       noise hits both alike (p50 ratio; target ≤ 1.05);
 *   <li>steps with 10 channels in flight on one worker against the same steps one at a time
 *       (throughput ratio; target ≥ 8×);
 *   <li>first connection setup (TCP + key exchange + host key check + public key auth) through
 *       {@link SshTransport#connect}, cold (first in the JVM) and warm (a new worker each time),
 *       with OpenSSH's own {@code ssh -fN} master setup as the baseline (target ≤ 80 ms).
 * </ol>
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar io.workerpools.benchmarks.SshB4Harness
 * [sequential-steps=500] [concurrent-steps=200]}. Needs {@code sshd}, {@code ssh}, {@code
 * ssh-keygen} and root (OpenSSH's privilege separation) or an sshd that can run as the current
 * user. As root it logs in as a throwaway user with an empty home ({@code useradd}, removed at the
 * end), so that the current user's {@code ~/.bashrc} (which bash reads for every SSH command) is
 * not what gets measured; {@code -Db4.user=self} logs in as the current user instead.
 */
public final class SshB4Harness {
  private SshB4Harness() {}

  private static String throwawayUser;

  public static void main(String[] args) throws Exception {
    int sequential = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    int concurrent = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    System.out.println(
        "load average at the start: " + Files.readString(Path.of("/proc/loadavg")).trim());
    Path dir = Files.createTempDirectory("wp-b4-");
    Process sshd = null;
    try {
      run(
          List.of(
              "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("host").toString()));
      run(
          List.of(
              "ssh-keygen",
              "-q",
              "-t",
              "ed25519",
              "-N",
              "",
              "-f",
              dir.resolve("client").toString()));
      Files.copy(dir.resolve("client.pub"), dir.resolve("authorized_keys"));
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
        port = s.getLocalPort();
      }
      Files.writeString(
          dir.resolve("sshd_config"),
          String.join(
              "\n",
              "Port " + port,
              "ListenAddress 127.0.0.1",
              "HostKey " + dir.resolve("host"),
              "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
              "PidFile " + dir.resolve("sshd.pid"),
              "StrictModes no",
              "UsePAM no",
              "MaxSessions 11",
              "MaxStartups 100",
              "LogLevel ERROR",
              ""));
      boolean madePrivsep =
          !Files.isDirectory(Path.of("/run/sshd"))
              && "root".equals(System.getProperty("user.name"));
      if (madePrivsep) {
        // OpenSSH needs its privilege separation directory when started as root.
        Files.createDirectories(Path.of("/run/sshd"));
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      try {
                        Files.deleteIfExists(Path.of("/run/sshd"));
                      } catch (IOException ignored) {
                        // In use or not empty: leave it.
                      }
                    }));
      }
      sshd =
          new ProcessBuilder(sshdPath(), "-D", "-e", "-f", dir.resolve("sshd_config").toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("sshd.log").toFile())
              .start();
      awaitPort(port);
      String[] hostPub = Files.readString(dir.resolve("host.pub")).trim().split(" ");
      Path knownHosts = dir.resolve("known_hosts");
      Files.writeString(
          knownHosts, "[127.0.0.1]:" + port + " " + hostPub[0] + " " + hostPub[1] + "\n");
      String me = System.getProperty("user.name");
      String login = me;
      if ("root".equals(me) && !"self".equals(System.getProperty("b4.user"))) {
        // A throwaway login with an empty home: what is measured is the transport and sshd, not
        // whatever the current user's ~/.bashrc runs for every SSH command (any client pays that
        // once per command; on the machine this was written on, root's runs pyenv init, ~0.7 s).
        login = "wpb4" + Long.toHexString(System.nanoTime() & 0xffffffL);
        Path home = dir.resolve("home");
        Files.createDirectories(home);
        run(List.of("useradd", "-M", "-d", home.toString(), "-s", "/bin/bash", login));
        throwawayUser = login;
        run(List.of("usermod", "-p", "*", login)); // not locked: sshd without PAM refuses those
        run(List.of("chown", login, home.toString()));
        run(List.of("chmod", "711", dir.toString()));
        run(List.of("chmod", "644", dir.resolve("authorized_keys").toString()));
      }
      String user = login;
      Path clientKey = dir.resolve("client");
      List<String> sshBase =
          List.of(
              "ssh",
              "-q",
              "-i",
              clientKey.toString(),
              "-p",
              Integer.toString(port),
              "-o",
              "UserKnownHostsFile=" + knownHosts,
              "-o",
              "StrictHostKeyChecking=yes",
              "-o",
              "BatchMode=yes",
              "-o",
              "ControlMaster=auto",
              "-o",
              "ControlPath=" + dir.resolve("cm-%C"),
              "-o",
              "ControlPersist=300",
              "-F",
              "/dev/null",
              user + "@127.0.0.1");

      try (SshTransport transport =
          SshTransport.builder((id, w) -> SshCredentials.privateKeyFile(clientKey))
              .maxChannelsPerWorker(11)
              .build()) {
        int[] seq = {0};
        java.util.function.Supplier<Worker> newWorker =
            () ->
                Worker.builder("b4-" + (++seq[0]))
                    .endpoint(
                        Endpoint.of(
                            "ssh",
                            "127.0.0.1:" + port,
                            Map.of(
                                SshEndpoint.USER,
                                user,
                                SshEndpoint.CREDENTIALS,
                                "key",
                                SshEndpoint.KNOWN_HOSTS,
                                knownHosts.toString())))
                    .pool("b4")
                    .build();

        // --- 3. connection setup: cold, then warm; baseline ssh -fN master setup ---
        long c0 = System.nanoTime();
        Worker main = newWorker.get();
        transport.connect(main).toCompletableFuture().get(30, TimeUnit.SECONDS);
        double coldMs = ms(System.nanoTime() - c0);
        int setups = 20;
        double[] warm = new double[setups];
        double[] sshSetup = new double[setups];
        for (int i = 0; i < setups; i++) {
          Worker w = newWorker.get();
          long t0 = System.nanoTime();
          transport.connect(w).toCompletableFuture().get(30, TimeUnit.SECONDS);
          warm[i] = ms(System.nanoTime() - t0);
          Path cp = dir.resolve("setup-" + i);
          List<String> master = new ArrayList<>(sshBase);
          master.replaceAll(a -> a.startsWith("ControlPath=") ? "ControlPath=" + cp : a);
          master.replaceAll(a -> a.equals("ControlMaster=auto") ? "ControlMaster=yes" : a);
          master.addAll(1, List.of("-f", "-N"));
          long s0 = System.nanoTime();
          run(master);
          sshSetup[i] = ms(System.nanoTime() - s0);
          List<String> exit = new ArrayList<>(sshBase);
          exit.replaceAll(a -> a.startsWith("ControlPath=") ? "ControlPath=" + cp : a);
          exit.addAll(1, List.of("-O", "exit"));
          runQuietly(exit);
        }

        // --- 1. sequential true, interleaved with ssh ControlMaster true ---
        run(append(sshBase, "true")); // the master for the baseline
        for (int i = 0; i < 20; i++) { // warm-up both
          step(transport, main);
          run(append(sshBase, "true"));
        }
        double[] ours = new double[sequential];
        double[] ssh = new double[sequential];
        double[] raw = new double[sequential];
        double[] sshUname = new double[sequential];
        long seqStart = System.nanoTime();
        double oursTotal = 0;
        for (int i = 0; i < sequential; i++) {
          long t0 = System.nanoTime();
          step(transport, main);
          ours[i] = ms(System.nanoTime() - t0);
          oursTotal += ours[i];
          long s0 = System.nanoTime();
          run(append(sshBase, "true"));
          ssh[i] = ms(System.nanoTime() - s0);
          // The same session and channel path without the step wrapper: the health check's plain
          // exec of a constant command, against ssh running the same command.
          long r0 = System.nanoTime();
          transport
              .checkHealth(main, HealthCheckRequest.connectivity(java.time.Duration.ofSeconds(60)))
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
          raw[i] = ms(System.nanoTime() - r0);
          long u0 = System.nanoTime();
          run(append(sshBase, "uname", "-srm"));
          sshUname[i] = ms(System.nanoTime() - u0);
        }
        long seqWall = System.nanoTime() - seqStart;

        // --- 2. ten channels in flight vs one at a time ---
        long[] cpu0 = cpu(sshd);
        long one0 = System.nanoTime();
        for (int i = 0; i < concurrent; i++) {
          step(transport, main);
        }
        double oneAtATimeS = (System.nanoTime() - one0) / 1e9;
        long[] cpu1 = cpu(sshd);
        Semaphore inFlight = new Semaphore(10);
        List<ScriptExecution> all = new ArrayList<>();
        long ten0 = System.nanoTime();
        for (int i = 0; i < concurrent; i++) {
          inFlight.acquire();
          ScriptExecution e = transport.start(main, ScriptRequest.bash("true"), LogSink.discard());
          e.result().whenComplete((r, t) -> inFlight.release());
          all.add(e);
        }
        for (ScriptExecution e : all) {
          ScriptResult r = e.result().toCompletableFuture().get(60, TimeUnit.SECONDS);
          if (!r.succeeded()) {
            throw new IllegalStateException("a step failed: " + r);
          }
        }
        double tenS = (System.nanoTime() - ten0) / 1e9;
        long[] cpu2 = cpu(sshd);

        System.out.printf(
            "B4 SSH (sshd %s), JDK %s, %d cores%n",
            sshdVersion(), Runtime.version(), Runtime.getRuntime().availableProcessors());
        System.out.printf(
            "setup: cold first connection %.1f ms; new connection p50 %.1f ms (p90 %.1f);"
                + " baseline ssh -fN master p50 %.1f ms (p90 %.1f)%n",
            coldMs, pct(warm, 50), pct(warm, 90), pct(sshSetup, 50), pct(sshSetup, 90));
        System.out.printf(
            "sequential true x%d: transport p50 %.1f ms p90 %.1f ms mean %.1f ms;"
                + " ssh ControlMaster p50 %.1f ms p90 %.1f ms; p50 ratio %.3f (wall %.0f s)%n",
            sequential,
            pct(ours, 50),
            pct(ours, 90),
            oursTotal / sequential,
            pct(ssh, 50),
            pct(ssh, 90),
            pct(ours, 50) / pct(ssh, 50),
            seqWall / 1e9);
        System.out.printf(
            "plain exec (no step wrapper) x%d: transport health check (uname -srm) p50 %.1f ms;"
                + " ssh ControlMaster uname -srm p50 %.1f ms; p50 ratio %.3f%n",
            sequential, pct(raw, 50), pct(sshUname, 50), pct(raw, 50) / pct(sshUname, 50));
        System.out.printf(
            "throughput true x%d: one at a time %.1f steps/s; 10 in flight %.1f steps/s;"
                + " ratio %.2fx%n",
            concurrent, concurrent / oneAtATimeS, concurrent / tenS, oneAtATimeS / tenS);
        double clientMs = (cpu1[0] - cpu0[0]) / 1e6 / concurrent;
        double serverMs = (cpu1[1] - cpu0[1]) / 1e6 / concurrent;
        double clientMs10 = (cpu2[0] - cpu1[0]) / 1e6 / concurrent;
        double serverMs10 = (cpu2[1] - cpu1[1]) / 1e6 / concurrent;
        int cores = Runtime.getRuntime().availableProcessors();
        double perStepWallMs = oneAtATimeS * 1000 / concurrent;
        System.out.printf(
            "CPU per step: one at a time %.1f ms client (JVM) + %.1f ms server (sshd and its"
                + " shells); 10 in flight %.1f + %.1f ms. With %d idle cores the 10-in-flight"
                + " ceiling is %.0f steps/s = %.1fx the one-at-a-time rate%n",
            clientMs,
            serverMs,
            clientMs10,
            serverMs10,
            cores,
            cores * 1000 / (clientMs10 + serverMs10),
            Math.min(10, perStepWallMs / ((clientMs10 + serverMs10) / cores)));
        System.out.println(
            "load average at the end: " + Files.readString(Path.of("/proc/loadavg")).trim());
      }
      runQuietly(append(sshBase.subList(0, sshBase.size() - 1), "-O", "exit", user + "@127.0.0.1"));
    } finally {
      if (sshd != null) {
        sshd.descendants().forEach(ProcessHandle::destroyForcibly);
        sshd.destroyForcibly();
        sshd.waitFor(10, TimeUnit.SECONDS);
      }
      if (throwawayUser != null) {
        runQuietly(List.of("userdel", throwawayUser));
      }
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * CPU time used so far, in ns: [0] this JVM, [1] sshd and everything under it (exited children
   * count through their parents' cutime/cstime once reaped).
   */
  private static long[] cpu(Process sshd) throws IOException {
    long jvm =
        ((com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    long ticks = 0;
    List<ProcessHandle> tree = new ArrayList<>();
    tree.add(sshd.toHandle());
    sshd.descendants().forEach(tree::add);
    for (ProcessHandle h : tree) {
      try {
        String stat = Files.readString(Path.of("/proc/" + h.pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // Fields 14-17 of stat (utime stime cutime cstime) are 11-14 after the command name.
        for (int i = 11; i <= 14; i++) {
          ticks += Long.parseLong(f[i]);
        }
      } catch (IOException | RuntimeException e) {
        // Exited meanwhile.
      }
    }
    return new long[] {jvm, ticks * 10_000_000L}; // USER_HZ = 100
  }

  private static void step(SshTransport t, Worker w) throws Exception {
    ScriptResult r =
        t.start(w, ScriptRequest.bash("true"), LogSink.discard())
            .result()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
    if (!r.succeeded()) {
      throw new IllegalStateException("a step failed: " + r);
    }
  }

  private static List<String> append(List<String> base, String... more) {
    List<String> l = new ArrayList<>(base);
    l.addAll(Arrays.asList(more));
    return l;
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static double pct(double[] values, int p) {
    double[] v = values.clone();
    Arrays.sort(v);
    int i = (int) Math.ceil(p / 100.0 * v.length) - 1;
    return v[Math.max(0, Math.min(v.length - 1, i))];
  }

  private static String sshdPath() {
    for (String d : List.of("/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin")) {
      if (Files.isExecutable(Path.of(d, "sshd"))) {
        return d + "/sshd";
      }
    }
    throw new IllegalStateException("sshd not found: install openssh-server");
  }

  private static String sshdVersion() {
    try {
      Process p = new ProcessBuilder("ssh", "-V").redirectErrorStream(true).start();
      return new String(p.getInputStream().readAllBytes()).trim();
    } catch (IOException e) {
      return "?";
    }
  }

  private static void awaitPort(int port) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        Thread.sleep(20);
      }
    }
    throw new IllegalStateException("sshd did not listen on " + port);
  }

  private static void run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(cmd + " failed: " + out);
    }
  }

  private static void runQuietly(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      p.getInputStream().readAllBytes();
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      // Best effort.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
