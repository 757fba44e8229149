package io.workerpools.examples;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.HealthScriptVerdict;
import io.workerpools.transport.LineSplitter;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.SensitiveMasker;
import io.workerpools.transport.WorkerTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An example of a host-written {@link WorkerTransport}: each step runs in a fresh container,
 * started through a container engine's command line ({@code docker run --rm -i ...}, or {@code
 * podman}: the CLI is an option). Copy it and adapt it; it shows what the SPI asks of a transport.
 *
 * <ul>
 *   <li>A worker of kind {@value #KIND} names its image as its address: {@code
 *       Endpoint.of("container", "ubuntu:24.04")}.
 *   <li>The script travels as data on the CLI's stdin ({@code bash -s}); arguments are separate
 *       items of the CLI's argv (never joined into a shell command line); environment variables are
 *       named with {@code -e NAME} and their values handed to the CLI through its own environment,
 *       so a secret never appears in a process list. Files are written to a fresh host directory
 *       mounted as the container's working directory.
 *   <li>Output is read as it comes through the shared {@link LineSplitter} (bounded lines, masked
 *       with the request's {@link SensitiveMasker}, never cut inside a secret) and handed to the
 *       sink one line at a time (stdout and stderr never concurrently). A health script's result is
 *       read by the shared {@link HealthScriptVerdict}.
 *   <li>Exit codes are the container's; {@value #ENGINE_ERROR_EXIT_CODE} is the engine's own "could
 *       not run the container" and is reported as {@link ScriptResult.Outcome#COULD_NOT_START}.
 *   <li>Cancel and timeout run {@code <cli> kill <name>} (killing the client alone would leave the
 *       container running) and then stop the client.
 *   <li>Health: {@code <cli> version} must answer (connectivity), or the policy's health script
 *       runs in a container of the worker's image.
 * </ul>
 *
 * <p>Scripts read from stdin, so a command in a script should not read stdin itself (redirect it
 * from {@code /dev/null}); the same holds for {@code docker run -i bash -s} by hand.
 *
 * <p><b>How it is tested:</b> there is no container engine on the build machines, so the test
 * points {@link Builder#cli(String)} at a small stand-in script it writes, which parses the same
 * {@code run}/{@code kill}/{@code version} arguments and runs the container's command locally (in
 * its own process group, with only the {@code -e} variables, in the mounted directory), the way the
 * container would. The transport's own code (argument building, stdin, streaming, masking, exit
 * codes, cancel, timeout) is what the test exercises, through the shared transport contract; a real
 * engine is not.
 *
 * <p>Threads: two pooled reader threads per running script (process pipes block), one timer thread.
 * Thread-safe.
 */
public final class ContainerTransport implements WorkerTransport {
  /** The endpoint kind this transport serves. */
  public static final String KIND = "container";

  /** The exit code with which {@code docker run} and {@code podman run} report their own errors. */
  public static final int ENGINE_ERROR_EXIT_CODE = 125;

  /** The container's working directory (the mounted host directory). */
  public static final String WORKSPACE = "/workspace";

  private final String cli;
  private final Path workRoot;
  private final boolean ownsWorkRoot;
  private final List<String> runOptions;
  private final ExecutorService io;
  private final ScheduledExecutorService timer;
  private final Set<ContainerExecution> running = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private ContainerTransport(Builder b) {
    this.cli = b.cli;
    this.runOptions = List.copyOf(b.runOptions);
    try {
      this.ownsWorkRoot = b.workRoot == null;
      this.workRoot =
          b.workRoot != null
              ? Files.createDirectories(b.workRoot)
              : Files.createTempDirectory("workerpools-containers");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the work directory", e);
    }
    AtomicInteger n = new AtomicInteger();
    this.io =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "container-io-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "container-timer");
              t.setDaemon(true);
              return t;
            });
  }

  /** A builder; the CLI defaults to {@code docker} on the PATH. */
  public static Builder builder() {
    return new Builder();
  }

  /** A worker builder for a container worker of this image (bash only). */
  public static Worker.Builder worker(String id, String image) {
    return Worker.builder(id).endpoint(Endpoint.of(KIND, image)).syntaxes(ScriptSyntax.BASH);
  }

  @Override
  public boolean supports(Endpoint endpoint) {
    return KIND.equals(endpoint.kind());
  }

  /** The CLI's argv for running a request in a container named {@code name}. Never a shell line. */
  List<String> runCommand(Worker worker, ScriptRequest request, String name, Path workDir) {
    String image = worker.endpoint().address();
    if (image.isBlank() || image.startsWith("-")) {
      throw new ConfigurationException(
          "worker " + worker.id() + ".endpoint.address",
          "must name the container image (for example ubuntu:24.04) but was '" + image + "'");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(cli);
    cmd.add("run");
    cmd.add("--rm");
    cmd.add("-i"); // the script comes on stdin
    cmd.add("--name");
    cmd.add(name);
    cmd.add("-v");
    cmd.add(workDir.toAbsolutePath() + ":" + WORKSPACE);
    cmd.add("-w");
    cmd.add(WORKSPACE);
    for (String var : request.environment().keySet()) {
      cmd.add("-e");
      cmd.add(var); // the name only: the engine takes the value from its own environment
    }
    cmd.addAll(runOptions);
    cmd.add(image);
    cmd.add("bash");
    cmd.add("-s");
    cmd.add("--");
    cmd.addAll(request.arguments());
    return cmd;
  }

  @Override
  public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(sink, "sink");
    if (!supports(worker.endpoint())) {
      throw new ConfigurationException(
          "worker " + worker.id() + ".endpoint.kind",
          "'" + worker.endpoint().kind() + "' is not served by ContainerTransport; use " + KIND);
    }
    if (request.syntax() != ScriptSyntax.BASH) {
      throw new ConfigurationException(
          "syntax", "ContainerTransport runs bash only but the script is " + request.syntax());
    }
    ContainerExecution e =
        new ContainerExecution(cli, workRoot, io, request, sink, running::remove);
    List<String> command = runCommand(worker, request, e.name, e.workDir); // throws if invalid
    if (closed) {
      e.finish(ScriptResult.of(ScriptResult.Outcome.COULD_NOT_START, e.elapsed(), "closed"));
      return e;
    }
    running.add(e);
    try {
      Files.createDirectories(e.workDir);
      for (ScriptRequest.ScriptFile f : request.files()) {
        Path target = e.workDir.resolve(f.name()).normalize();
        Files.createDirectories(target.getParent());
        Files.write(target, f.content());
      }
      ProcessBuilder pb = new ProcessBuilder(command);
      pb.environment().putAll(request.environment());
      e.process = pb.start();
    } catch (IOException | RuntimeException ex) {
      e.finish(
          ScriptResult.of(
              ScriptResult.Outcome.COULD_NOT_START,
              e.elapsed(),
              "cannot start '" + cli + " run': " + ex.getMessage()));
      return e;
    }
    e.pump();
    request
        .timeout()
        .ifPresent(
            t -> e.timeout = timer.schedule(e::timedOut, t.toMillis(), TimeUnit.MILLISECONDS));
    return e;
  }

  @Override
  public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
    Instant at = Instant.now();
    long t0 = System.nanoTime();
    if (request.healthScript().isPresent()) {
      HealthScriptVerdict verdict = new HealthScriptVerdict();
      ScriptExecution e = start(worker, request.healthScript().get(), verdict);
      timer.schedule(e::cancel, request.timeout().toMillis(), TimeUnit.MILLISECONDS);
      HealthReport connected = HealthReport.of(HealthStatus.HEALTHY, at, Duration.ZERO, "");
      return e.result()
          .thenApply(
              r ->
                  verdict.report(
                      r, connected, Instant.now(), Duration.ofNanos(System.nanoTime() - t0)));
    }
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            Process p = new ProcessBuilder(cli, "version").redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            boolean done = p.waitFor(request.timeout().toMillis(), TimeUnit.MILLISECONDS);
            Duration latency = Duration.ofNanos(System.nanoTime() - t0);
            if (!done) {
              p.destroyForcibly();
              return HealthReport.of(
                  HealthStatus.UNAVAILABLE, at, latency, "'" + cli + " version' did not answer");
            }
            String text = new String(out, StandardCharsets.UTF_8).strip();
            return p.exitValue() == 0
                ? HealthReport.of(HealthStatus.HEALTHY, at, latency, firstLine(text))
                : HealthReport.of(
                    HealthStatus.UNAVAILABLE,
                    at,
                    latency,
                    "'" + cli + " version' exited " + p.exitValue() + ": " + firstLine(text));
          } catch (IOException ex) {
            return HealthReport.of(
                HealthStatus.UNAVAILABLE,
                at,
                Duration.ofNanos(System.nanoTime() - t0),
                "cannot run '" + cli + "': " + ex.getMessage());
          } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return HealthReport.of(HealthStatus.UNAVAILABLE, at, Duration.ZERO, "interrupted");
          }
        },
        io);
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** How many scripts run now. */
  public int runningCount() {
    return running.size();
  }

  /** Cancels every running script, stops the threads, removes the work directories. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    List<CompletableFuture<ScriptResult>> ends = new ArrayList<>();
    for (ContainerExecution e : List.copyOf(running)) {
      e.cancel();
      ends.add(e.result);
    }
    try {
      CompletableFuture.allOf(ends.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    } catch (Exception ex) {
      // Closing anyway; the processes were told to die.
    }
    timer.shutdownNow();
    io.shutdown();
    if (ownsWorkRoot) {
      ContainerExecution.deleteTree(workRoot);
    }
  }

  @Override
  public String toString() {
    return "ContainerTransport[" + cli + "]";
  }

  /** Builds a {@link ContainerTransport}. */
  public static final class Builder {
    private String cli = "docker";
    private Path workRoot;
    private final List<String> runOptions = new ArrayList<>();

    private Builder() {}

    /**
     * The container engine's CLI: {@code docker} (default), {@code podman}, or a path. Must accept
     * {@code run --rm -i --name N -v SRC:DST -w DIR -e NAME IMAGE CMD...}, {@code kill N} and
     * {@code version}.
     */
    public Builder cli(String cli) {
      if (cli == null || cli.isBlank()) {
        throw new ConfigurationException(
            "containerTransport.cli", "must name the CLI (docker, podman or a path)");
      }
      this.cli = cli;
      return this;
    }

    /**
     * Where the host directories mounted into containers are made (default: a temp directory
     * removed on close). Must be visible to the engine.
     */
    public Builder workRoot(Path dir) {
      this.workRoot = Objects.requireNonNull(dir, "workRoot");
      return this;
    }

    /**
     * Extra options for {@code run}, placed before the image, one per item (for example {@code
     * "--network", "none"} or {@code "--memory", "512m"}).
     */
    public Builder runOption(String... options) {
      for (String o : options) {
        runOptions.add(Objects.requireNonNull(o, "run option"));
      }
      return this;
    }

    /** Builds the transport. */
    public ContainerTransport build() {
      return new ContainerTransport(this);
    }
  }
}
