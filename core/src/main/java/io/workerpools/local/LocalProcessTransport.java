package io.workerpools.local;

import io.workerpools.ConfigurationException;
import io.workerpools.TransportException;
import io.workerpools.local.internal.Executables;
import io.workerpools.local.internal.Launcher;
import io.workerpools.local.internal.WorkingDirectories;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.time.TimeSource;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.HealthScriptVerdict;
import io.workerpools.transport.LineSplitter;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;

/**
 * The built-in worker's transport: runs each script as a process of the host, in a fresh working
 * directory, through a {@link LocalScriptRunner}.
 *
 * <ul>
 *   <li>Each script gets its own directory (mode 0700, random name) under {@link
 *       Builder#baseDirectory(Path)}, which must be safe from other local users: created 0700 by
 *       this library, or else owned by the host's user and not writable by others, with no other
 *       user able to change a directory above it; anything else is refused with an {@link
 *       UnsafeDirectoryException} saying how to fix it. The directory is removed afterwards (never
 *       following a link) unless the request asks to keep it.
 *   <li>The script is written there and run by its interpreter ({@code bash}, {@code sh}, {@code
 *       pwsh}, {@code python3}); arguments and environment variables are passed as data, never
 *       through a shell command line. Scripts see a clean environment ({@link
 *       HostEnvironment#clean()}) plus their own variables, unless the host asks otherwise.
 *   <li>stdout and stderr are handed to the {@link LogSink} line by line, masked, timestamped, in
 *       order within each stream; long lines are split, invalid UTF-8 is replaced, never fatal.
 *   <li>Each script leads its own process group; cancellation, timeouts and its exit kill the whole
 *       group (background jobs die with it unless {@link Builder#killLeftoverProcesses(boolean)} is
 *       off).
 *   <li>{@link ScriptRequest#runAsUser()} runs the script as another OS user through {@code
 *       runuser} (or {@code sudo}), without the host's environment; this needs the host to run as
 *       root, and a base directory that user can traverse.
 * </ul>
 *
 * <p>How scripts start ({@link StartMode}): by default a persistent launcher (a few long-lived
 * {@code bash} processes) forks each script, and one selector thread reads every script's output,
 * so that the transport's thread count stays bounded however many scripts run; a script is then a
 * descendant of the host, not its child. {@link StartMode#SPAWN_PER_SCRIPT} spawns each script from
 * the JVM instead (two reader threads each). See {@link LocalScriptRunner} for the threads.
 *
 * <p>Processes are started with the JDK's default launch mechanism ({@code POSIX_SPAWN} on Linux);
 * building this transport fails if the JVM was told to use {@code FORK}, which copies the JVM's
 * page tables on every spawn (tens of milliseconds with a large heap). Thread-safe.
 */
public final class LocalProcessTransport implements WorkerTransport {
  /** Lines longer than this many bytes are split: 64 KiB. */
  public static final int DEFAULT_MAX_LINE_BYTES = LineSplitter.DEFAULT_MAX_LINE_BYTES;

  /** Below this much free disk space under the base directory, health is HAS_WARNINGS: 1 GiB. */
  public static final long DEFAULT_LOW_DISK_SPACE_BYTES = 1L << 30;

  /** The system property that chooses the JDK's process launch mechanism. */
  public static final String LAUNCH_MECHANISM_PROPERTY = "jdk.lang.Process.launchMechanism";

  private final Path baseDirectory;
  private final WorkingDirectories workingDirectories;
  private final long lowDiskSpaceBytes;
  private final TimeSource time;
  private final LocalScriptRunner runner;
  private volatile boolean closed;

  private LocalProcessTransport(Builder b) {
    checkLaunchMechanism();
    this.baseDirectory = b.baseDirectory;
    this.workingDirectories = new WorkingDirectories(baseDirectory);
    if (Files.exists(baseDirectory, LinkOption.NOFOLLOW_LINKS)) {
      try {
        workingDirectories.ensureBase(false); // refuse an unsafe base now rather than per step
      } catch (IOException e) {
        throw new ConfigurationException(
            "baseDirectory", "cannot use " + baseDirectory + ": " + e.getMessage(), e);
      }
    }
    this.lowDiskSpaceBytes = b.lowDiskSpaceBytes;
    this.time = b.time;
    this.runner = b.runner.timeSource(b.time).build();
  }

  /** A transport with the defaults: base directory {@code <java.io.tmpdir>/workerpools-steps}. */
  public static LocalProcessTransport create() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The process launch mechanism this JVM uses: the value of {@value #LAUNCH_MECHANISM_PROPERTY} if
   * set, else the JDK's default on this platform ({@code POSIX_SPAWN} on Linux and macOS).
   */
  public static String launchMechanism() {
    String p = System.getProperty(LAUNCH_MECHANISM_PROPERTY);
    if (p != null && !p.isBlank()) {
      return p.trim().toUpperCase(Locale.ROOT);
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    return os.contains("win") ? "CREATE_PROCESS" : "POSIX_SPAWN";
  }

  private static void checkLaunchMechanism() {
    if ("FORK".equals(launchMechanism())) {
      throw new ConfigurationException(
          LAUNCH_MECHANISM_PROPERTY,
          "is FORK, which copies the whole JVM's memory mappings on every script start (about 90 ms"
              + " with a 4 GB heap); remove the property or set it to POSIX_SPAWN or VFORK");
    }
  }

  /** The directory under which each script gets its own working directory. */
  public Path baseDirectory() {
    return baseDirectory;
  }

  /** How scripts are started (the persistent launcher by default). */
  public StartMode startMode() {
    return runner.startMode();
  }

  /**
   * Whether scripts go through the persistent launcher now: the mode asks for it and the launcher
   * started (it starts with the first script). False in {@link StartMode#SPAWN_PER_SCRIPT} mode or
   * after the launcher failed to start.
   */
  public boolean launcherActive() {
    return runner.launcherActive();
  }

  /** The pids of the running launcher processes. For tests. */
  List<Long> launcherPids() {
    return runner.launcherPids();
  }

  /** The loopback port of the running launcher, or -1. For tests. */
  int launcherPort() {
    return runner.launcherPort();
  }

  /** The number of scripts running now. */
  public int runningCount() {
    return runner.runningCount();
  }

  boolean runningAsRoot() {
    return runner.runningAsRoot();
  }

  @Override
  public boolean supports(Endpoint endpoint) {
    return endpoint != null && Endpoint.LOCAL.equals(endpoint.kind());
  }

  @Override
  public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(sink, "sink");
    if (request.container().isPresent()) {
      // Never run a container step on the host by mistake: it must come wrapped.
      throw new ConfigurationException(
          "container",
          "request "
              + request.executionId()
              + " names a container; start it with ContainerSteps.start (the dispatcher does)");
    }
    if (!supports(worker.endpoint())) {
      throw new TransportException(
          worker.id(),
          "endpoint '"
              + worker.endpoint()
              + "' is not a local endpoint; the local process transport"
              + " only runs workers with Endpoint.local()",
          false,
          null);
    }
    String where = "worker '" + worker.name() + "' (" + worker.id() + ")";
    Path dir;
    try {
      dir = closed ? null : workingDirectories.newStepDirectory();
    } catch (UnsafeDirectoryException e) {
      return runner.failed(request, sink, where, e.getMessage());
    } catch (IOException | RuntimeException e) {
      return runner.failed(
          request, sink, where, "could not prepare the working directory on " + where + ": " + e);
    }
    if (dir == null) {
      return runner.failed(request, sink, where, "the local process transport is closed");
    }
    String script = io.workerpools.local.internal.Commands.scriptFileName(request.syntax());
    Runnable cleanUp =
        request.keepWorkingDirectory() ? () -> {} : () -> removeStepDirectory(dir, script, request);
    return runner.start(request, dir, sink, where, cleanUp);
  }

  /**
   * Two unlinks when the script left nothing behind (the usual case); a link-safe walk otherwise.
   */
  private static void removeStepDirectory(Path dir, String script, ScriptRequest request) {
    if (request.files().isEmpty()) {
      try {
        Files.deleteIfExists(dir.resolve(script));
        Files.delete(dir);
        return;
      } catch (IOException e) {
        // not empty (the script made files): walk it
      }
    }
    WorkingDirectories.deleteTree(dir);
  }

  @Override
  public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(request, "request");
    long t0 = time.nanoTime();
    Map<String, String> details = new LinkedHashMap<>();
    details.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    details.put("launchMechanism", launchMechanism());
    details.put("startMode", runner.startMode().name());
    HealthStatus status;
    String message;
    try {
      workingDirectories.ensureBase(false);
      long free = Files.getFileStore(baseDirectory).getUsableSpace();
      details.put("freeDiskBytes", Long.toString(free));
      if (free < lowDiskSpaceBytes) {
        status = HealthStatus.HAS_WARNINGS;
        message =
            "only "
                + (free >> 20)
                + " MiB free under the working directory base (warning below "
                + (lowDiskSpaceBytes >> 20)
                + " MiB)";
      } else {
        status = HealthStatus.HEALTHY;
        message = "";
      }
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.completedFuture(
          new HealthReport(
              HealthStatus.UNHEALTHY,
              time.now(),
              elapsed(t0),
              "cannot use the working directory base: " + e.getMessage(),
              details));
    }
    if (request.healthScript().isEmpty()) {
      return CompletableFuture.completedFuture(
          new HealthReport(status, time.now(), elapsed(t0), message, details));
    }
    ScriptRequest script = request.healthScript().get();
    if (script.timeout().isEmpty()) {
      script =
          ScriptRequest.builder(script.syntax(), script.body())
              .arguments(script.arguments().toArray(String[]::new))
              .timeout(request.timeout())
              .build();
    }
    HealthReport connectivity = new HealthReport(status, time.now(), elapsed(t0), message, details);
    HealthScriptVerdict verdict = new HealthScriptVerdict();
    return start(worker, script, verdict)
        .result()
        .thenApply(r -> verdict.report(r, connectivity, time.now(), elapsed(t0)));
  }

  private Duration elapsed(long t0) {
    return Duration.ofNanos(time.nanoTime() - t0);
  }

  /** Cancels every running script and stops this transport's threads. */
  @Override
  public void close() {
    closed = true;
    runner.close();
  }

  /** How the transport starts scripts. */
  public enum StartMode {
    /**
     * The default. A few long-lived {@code bash} launchers (one per CPU, up to 4) fork each script
     * into its own process group; output comes back over loopback connections that only the
     * script's random token opens, all read by one thread, so that running scripts cost no thread
     * each. A script is the host's descendant, not its child. Scripts whose variable names a shell
     * cannot export unchanged are spawned one process each; so is everything if the launcher cannot
     * start (bash missing or built without {@code /dev/tcp}), with a log line.
     */
    PERSISTENT_LAUNCHER,
    /**
     * Each script is spawned by the JDK as {@code setsid <interpreter> <script>}, with two reader
     * threads for its pipes and the JDK's reaper thread while it runs.
     */
    SPAWN_PER_SCRIPT
  }

  /**
   * Builds a {@link LocalProcessTransport}. Defaults: base directory {@code
   * <java.io.tmpdir>/workerpools-steps}, the persistent launcher, a clean environment ({@link
   * HostEnvironment#clean()}), interpreters {@code bash}, {@code sh}, {@code pwsh}, {@code python3}
   * looked up on {@code PATH}, 64 KiB line cap, 1 GiB low-disk warning, system time.
   */
  public static final class Builder {
    private Path baseDirectory = Path.of(System.getProperty("java.io.tmpdir"), "workerpools-steps");
    private long lowDiskSpaceBytes = DEFAULT_LOW_DISK_SPACE_BYTES;
    private TimeSource time = TimeSource.system();
    private final LocalScriptRunner.Builder runner = LocalScriptRunner.builder();

    private Builder() {}

    /**
     * Where each script's working directory is created: created 0700 if missing; refused at {@link
     * #build()} (or at the first step, if it appears later) if another user owns it or could write
     * to it or to a directory above it ({@link UnsafeDirectoryException}).
     */
    public Builder baseDirectory(Path dir) {
      if (dir == null) {
        throw new ConfigurationException("baseDirectory", "must be set");
      }
      this.baseDirectory = dir.toAbsolutePath();
      return this;
    }

    /**
     * The command that runs scripts of one syntax: a name looked up on {@code PATH} ({@code pwsh})
     * or a path ({@code /opt/python3.12/bin/python3}).
     */
    public Builder interpreter(ScriptSyntax syntax, String command) {
      runner.interpreter(syntax, command);
      return this;
    }

    /**
     * Which of the host's environment variables scripts see, besides their request's: {@link
     * HostEnvironment#clean()} by default (PATH, HOME, LANG, TZ, TMPDIR and a few more; never a
     * secret the host holds in its environment). A script run as another user never sees the host's
     * environment.
     */
    public Builder hostEnvironment(HostEnvironment policy) {
      runner.hostEnvironment(policy);
      return this;
    }

    /**
     * Whether scripts see the host's whole environment ({@link HostEnvironment#inherit()}) or a
     * clean one ({@link HostEnvironment#clean()}, the default). Explicit on purpose: the host's
     * environment often holds its own secrets. Never for a script run as another user.
     */
    public Builder inheritEnvironment(boolean inherit) {
      runner.hostEnvironment(inherit ? HostEnvironment.inherit() : HostEnvironment.clean());
      return this;
    }

    /**
     * Lines longer than this are split into pieces of at most this many bytes (1 KiB to 16 MiB).
     */
    public Builder maxLineBytes(int bytes) {
      runner.maxLineBytes(bytes);
      return this;
    }

    /** Health reports HAS_WARNINGS when less than this is free under the base directory. */
    public Builder lowDiskSpaceBytes(long bytes) {
      if (bytes < 0) {
        throw new ConfigurationException("lowDiskSpaceBytes", "must be >= 0 but was " + bytes);
      }
      this.lowDiskSpaceBytes = bytes;
      return this;
    }

    /**
     * Whether processes a script leaves running in the background are killed when it exits (default
     * true: a step's result means its processes are gone). When off, a step whose background jobs
     * keep its stdout or stderr open ends only when they exit or close it.
     */
    public Builder killLeftoverProcesses(boolean kill) {
      runner.killLeftoverProcesses(kill);
      return this;
    }

    public Builder timeSource(TimeSource time) {
      this.time = Objects.requireNonNull(time, "time");
      return this;
    }

    /**
     * The executor for blocking work: pipe readers of scripts spawned one process each (two tasks
     * per such script while it runs) and kills. It must be able to run that many tasks at once (an
     * unbounded or virtual-thread executor); the transport does not shut it down.
     */
    public Builder ioExecutor(ExecutorService executor) {
      runner.ioExecutor(executor);
      return this;
    }

    /**
     * How scripts are started: {@link StartMode#PERSISTENT_LAUNCHER} (the default: no thread per
     * running script; falls back to spawning by itself when it cannot be used) or {@link
     * StartMode#SPAWN_PER_SCRIPT}.
     */
    public Builder startMode(StartMode mode) {
      runner.startMode(mode);
      return this;
    }

    /** For tests: where executables are looked up. */
    Builder executables(Executables executables) {
      runner.executables(executables);
      return this;
    }

    /** For tests: how long and how many loopback connections may stay silent. */
    Builder launcherLimits(Launcher.Limits limits) {
      runner.launcherLimits(limits);
      return this;
    }

    public LocalProcessTransport build() {
      return new LocalProcessTransport(this);
    }
  }
}
