package io.workerpools.local;

import io.workerpools.ConfigurationException;
import io.workerpools.TransportException;
import io.workerpools.local.internal.Executables;
import io.workerpools.local.internal.Launcher;
import io.workerpools.local.internal.ProcessTree;
import io.workerpools.local.internal.WorkingDirectories;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.time.TimeSource;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.HealthScriptVerdict;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in worker's transport: runs each script as a child process of the host.
 *
 * <ul>
 *   <li>The script is written to a file in a fresh working directory under {@link
 *       Builder#baseDirectory(Path)} and run by its interpreter ({@code bash}, {@code sh}, {@code
 *       pwsh}, {@code python3}); arguments and environment variables are passed as data, never
 *       through a shell command line.
 *   <li>stdout and stderr are read as they are produced and handed to the {@link LogSink} line by
 *       line, masked, timestamped, in order within each stream; lines longer than {@link
 *       Builder#maxLineBytes(int)} are split; invalid UTF-8 is replaced, never fatal.
 *   <li>Each script leads its own process group; cancellation and timeouts kill the whole group,
 *       and so does the script's exit (background jobs it left running die with it, unless {@link
 *       Builder#killLeftoverProcesses(boolean)} is off).
 *   <li>The working directory is deleted afterwards unless the request asks to keep it.
 *   <li>{@link ScriptRequest#runAsUser()} runs the script as another OS user through {@code
 *       runuser} (or {@code sudo}); this needs the host to run as root.
 * </ul>
 *
 * <p>How scripts start ({@link StartMode}): one JDK spawn per script by default; or, with {@link
 * StartMode#PERSISTENT_LAUNCHER}, a persistent launcher, one long-lived {@code bash} per transport,
 * forks each script into its own process group and reports its exit; output comes back over
 * loopback connections bound to the script by a random token, all read by one selector thread. A
 * script then costs a fork instead of a JDK spawn plus a {@code setsid} exec, and a burst of
 * scripts needs no thread per script. Scripts the launcher cannot take (run as another user,
 * variable names the shell treats specially) and every script when it cannot start are spawned one
 * process each ({@code setsid <interpreter> <script>}, two pooled reader threads per script), as
 * every script is in the default mode. The launcher is not the default yet: a script it starts is
 * the host's grandchild, not its child, and under a burst of scripts it was slower than spawning
 * (see {@code docs/local-and-dispatch.md}).
 *
 * <p>Threads: the launcher's output thread and one event thread per launcher process; in spawn mode
 * two pooled reader threads per running script plus the JDK's process reaper; one scheduler thread
 * for timeouts. {@link #start} writes the script and hands it to the launcher (or spawns it) on the
 * caller's thread and returns.
 *
 * <p>Processes are started with the JDK's default launch mechanism ({@code POSIX_SPAWN} on Linux);
 * building this transport fails if the JVM was told to use {@code FORK}, which copies the JVM's
 * page tables on every spawn (tens of milliseconds with a large heap). Thread-safe.
 */
public final class LocalProcessTransport implements WorkerTransport {
  private static final Logger LOG = LoggerFactory.getLogger(LocalProcessTransport.class);

  /** Lines longer than this many bytes are split: 64 KiB. */
  public static final int DEFAULT_MAX_LINE_BYTES = 64 * 1024;

  /** Below this much free disk space under the base directory, health is HAS_WARNINGS: 1 GiB. */
  public static final long DEFAULT_LOW_DISK_SPACE_BYTES = 1L << 30;

  /** The system property that chooses the JDK's process launch mechanism. */
  public static final String LAUNCH_MECHANISM_PROPERTY = "jdk.lang.Process.launchMechanism";

  private static final String[] USER_SWITCHERS = {"runuser", "sudo"};

  private final Path baseDirectory;
  private final Map<ScriptSyntax, String> interpreters;
  private final HostEnvironment hostEnvironment;
  private final WorkingDirectories workingDirectories;
  private final int maxLineBytes;
  private final long lowDiskSpaceBytes;
  private final boolean killLeftoverProcesses;
  private final TimeSource time;
  private final ExecutorService io;
  private final boolean ownsIo;
  private final ScheduledExecutorService scheduler;
  private final Executables executables;
  private final ProcessTree processTree;
  private final Optional<Path> setsid;
  private final boolean runningAsRoot;
  private final Set<LocalExecution> running = ConcurrentHashMap.newKeySet();
  private final StartMode startMode;
  private final Launcher.Limits launcherLimits;
  private final Object launcherLock = new Object();
  private Launcher launcher; // guarded by launcherLock
  private boolean launcherFailed; // guarded by launcherLock
  private volatile boolean closed;

  private LocalProcessTransport(Builder b) {
    checkLaunchMechanism();
    this.baseDirectory = b.baseDirectory;
    this.interpreters = new EnumMap<>(b.interpreters);
    this.hostEnvironment = b.hostEnvironment;
    this.workingDirectories = new WorkingDirectories(baseDirectory);
    if (Files.exists(baseDirectory, LinkOption.NOFOLLOW_LINKS)) {
      try {
        workingDirectories.ensureBase(false); // refuse an unsafe base now rather than per step
      } catch (IOException e) {
        throw new ConfigurationException(
            "baseDirectory", "cannot use " + baseDirectory + ": " + e.getMessage(), e);
      }
    }
    this.maxLineBytes = b.maxLineBytes;
    this.lowDiskSpaceBytes = b.lowDiskSpaceBytes;
    this.killLeftoverProcesses = b.killLeftoverProcesses;
    this.time = b.time;
    this.executables = b.executables != null ? b.executables : Executables.fromEnvironment();
    this.processTree = new ProcessTree(executables.find("kill"), executables.find("bash"));
    this.setsid = executables.find("setsid");
    if (setsid.isEmpty()) {
      LOG.warn(
          "'setsid' is not on PATH: cancelling a script kills only the processes still descended"
              + " from it; orphaned background processes may survive. Install util-linux.");
    }
    this.runningAsRoot = isRoot();
    this.startMode = b.startMode;
    this.launcherLimits = b.launcherLimits;
    if (b.ioExecutor != null) {
      this.io = b.ioExecutor;
      this.ownsIo = false;
    } else {
      this.io = Executors.newCachedThreadPool(daemonThreads("workerpools-local-io-"));
      this.ownsIo = true;
    }
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(daemonThreads("workerpools-local-timer-"));
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

  /**
   * How scripts are started: through the persistent launcher, or one JDK spawn each. The {@link
   * StartMode#PERSISTENT_LAUNCHER} mode falls back to spawning for scripts it cannot take.
   */
  public StartMode startMode() {
    return startMode;
  }

  /**
   * Whether scripts go through the persistent launcher now: the mode asks for it and the launcher
   * started (it starts with the first script). False in {@link StartMode#SPAWN_PER_SCRIPT} mode or
   * after the launcher failed to start.
   */
  public boolean launcherActive() {
    synchronized (launcherLock) {
      return launcher != null && launcher.usable();
    }
  }

  /** The pids of the running launcher processes. For tests. */
  List<Long> launcherPids() {
    synchronized (launcherLock) {
      return launcher == null ? List.of() : launcher.pids();
    }
  }

  /** The loopback port of the running launcher, or -1. For tests. */
  int launcherPort() {
    synchronized (launcherLock) {
      return launcher == null ? -1 : launcher.port();
    }
  }

  /** The number of scripts running now. */
  public int runningCount() {
    return running.size();
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
    LocalExecution exec = new LocalExecution(this, worker, request, sink);
    if (closed) {
      exec.fail("the local process transport is closed");
      return exec;
    }
    running.add(exec);
    exec.launch();
    return exec;
  }

  @Override
  public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(request, "request");
    long t0 = time.nanoTime();
    Map<String, String> details = new LinkedHashMap<>();
    details.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    details.put("launchMechanism", launchMechanism());
    details.put("startMode", startMode.name());
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
    if (closed) {
      return;
    }
    closed = true;
    for (LocalExecution e : List.copyOf(running)) {
      e.cancel();
    }
    scheduler.shutdown();
    synchronized (launcherLock) {
      if (launcher != null) {
        launcher.close(); // its output thread ends once the cancelled scripts have ended
      }
    }
    // Cancelled scripts have been signalled (cancel kills on this transport's threads, which may
    // still be busy): the helper stops once they are done with it; later kills spawn kill instead.
    try {
      io.execute(processTree::close);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      processTree.close();
    }
    if (ownsIo) {
      io.shutdown();
    }
  }

  // ---- for LocalExecution ----

  Path base() {
    return baseDirectory;
  }

  WorkingDirectories workingDirectories() {
    return workingDirectories;
  }

  Optional<Path> interpreter(ScriptSyntax syntax) {
    return executables.find(interpreterCommand(syntax));
  }

  String interpreterCommand(ScriptSyntax syntax) {
    return interpreters.get(syntax);
  }

  /**
   * The persistent launcher, started on first use; null in {@link StartMode#SPAWN_PER_SCRIPT} mode,
   * or if it could not start (logged once), or if this transport is closed.
   */
  Launcher launcher() {
    if (startMode != StartMode.PERSISTENT_LAUNCHER) {
      return null;
    }
    synchronized (launcherLock) {
      if (closed) {
        return null;
      }
      if (launcher != null) {
        if (launcher.usable()) {
          return launcher;
        }
        if (!launcherFailed) {
          launcherFailed = true;
          LOG.warn(
              "the local launcher could not be restarted; scripts on the built-in worker are now"
                  + " started one process each (StartMode.SPAWN_PER_SCRIPT)");
        }
        return null;
      }
      if (launcherFailed) {
        return null;
      }
      launcherFailed = true; // until it has started
      Optional<Path> bash = executables.find("bash");
      if (bash.isEmpty()) {
        LOG.warn("no 'bash' on PATH: scripts are started one process each, without the launcher");
        return null;
      }
      Map<String, String> env = hostEnvironment.select(System.getenv());
      String unsupported = Launcher.unsupportedEnvironment(env);
      if (unsupported != null) {
        LOG.info(
            "{}: scripts are started one process each, without the persistent launcher",
            unsupported);
        return null;
      }
      try {
        launcher = Launcher.start(bash.get(), env, launcherLimits);
        launcherFailed = false;
        return launcher;
      } catch (IOException e) {
        LOG.warn(
            "the persistent local launcher could not start ({}); scripts are started one process"
                + " each instead",
            e.getMessage());
        return null;
      }
    }
  }

  Optional<Path> setsid() {
    return setsid;
  }

  Optional<Path> userSwitcher() {
    for (String s : USER_SWITCHERS) {
      Optional<Path> p = executables.find(s);
      if (p.isPresent()) {
        return p;
      }
    }
    return Optional.empty();
  }

  boolean runningAsRoot() {
    return runningAsRoot;
  }

  HostEnvironment hostEnvironment() {
    return hostEnvironment;
  }

  int maxLineBytes() {
    return maxLineBytes;
  }

  boolean killLeftoverProcesses() {
    return killLeftoverProcesses;
  }

  TimeSource time() {
    return time;
  }

  ExecutorService io() {
    return io;
  }

  ScheduledExecutorService scheduler() {
    return scheduler;
  }

  ProcessTree processTree() {
    return processTree;
  }

  void finished(LocalExecution e) {
    running.remove(e);
  }

  private static boolean isRoot() {
    try {
      Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      return uid instanceof Integer i && i == 0;
    } catch (IOException | RuntimeException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** How the transport starts scripts. */
  public enum StartMode {
    /**
     * One long-lived {@code bash} launcher per transport forks each script into its own process
     * group; a script costs a fork and the interpreter's exec instead of a JDK spawn plus {@code
     * setsid}. Output comes back over loopback connections that only the script's random token
     * opens; one thread reads every script's output. Scripts run as another user, and scripts whose
     * variable names a shell cannot export, are spawned one process each; so is everything if the
     * launcher cannot start (bash missing or built without {@code /dev/tcp}), with a log line.
     */
    PERSISTENT_LAUNCHER,
    /**
     * Each script is spawned by the JDK as {@code setsid <interpreter> <script>}, with two reader
     * threads for its pipes.
     */
    SPAWN_PER_SCRIPT
  }

  /**
   * Builds a {@link LocalProcessTransport}. Defaults: base directory {@code
   * <java.io.tmpdir>/workerpools-steps}, interpreters {@code bash}, {@code sh}, {@code pwsh},
   * {@code python3} looked up on {@code PATH}, the host's environment inherited, 64 KiB line cap, 1
   * GiB low-disk warning, system time, an owned cached pool for pipe readers.
   */
  public static final class Builder {
    private Path baseDirectory = Path.of(System.getProperty("java.io.tmpdir"), "workerpools-steps");
    private final Map<ScriptSyntax, String> interpreters = new EnumMap<>(ScriptSyntax.class);
    private HostEnvironment hostEnvironment = HostEnvironment.clean();
    private int maxLineBytes = DEFAULT_MAX_LINE_BYTES;
    private long lowDiskSpaceBytes = DEFAULT_LOW_DISK_SPACE_BYTES;
    private boolean killLeftoverProcesses = true;
    private TimeSource time = TimeSource.system();
    private ExecutorService ioExecutor;
    private Executables executables;
    private StartMode startMode = StartMode.SPAWN_PER_SCRIPT;
    private Launcher.Limits launcherLimits = Launcher.Limits.DEFAULT;

    private Builder() {
      interpreters.put(ScriptSyntax.BASH, "bash");
      interpreters.put(ScriptSyntax.SH, "sh");
      interpreters.put(ScriptSyntax.POWERSHELL, "pwsh");
      interpreters.put(ScriptSyntax.PYTHON, "python3");
    }

    /** Where each script's working directory is created (created if missing). */
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
      Objects.requireNonNull(syntax, "syntax");
      if (command == null || command.isBlank()) {
        throw new ConfigurationException(
            "interpreter." + syntax.name().toLowerCase(Locale.ROOT),
            "must name a command, for example 'bash' or '/usr/bin/python3'");
      }
      interpreters.put(syntax, command.trim());
      return this;
    }

    /**
     * Which of the host's environment variables scripts see, besides their request's: {@link
     * HostEnvironment#clean()} by default (PATH, HOME, LANG, TZ, TMPDIR and a few more; never a
     * secret the host holds in its environment). A script run as another user never sees the host's
     * environment.
     */
    public Builder hostEnvironment(HostEnvironment policy) {
      this.hostEnvironment = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Whether scripts see the host's whole environment ({@link HostEnvironment#inherit()}) or a
     * clean one ({@link HostEnvironment#clean()}, the default). Explicit on purpose: the host's
     * environment often holds its own secrets. Never for a script run as another user.
     */
    public Builder inheritEnvironment(boolean inherit) {
      this.hostEnvironment = inherit ? HostEnvironment.inherit() : HostEnvironment.clean();
      return this;
    }

    /**
     * Lines longer than this are split into pieces of at most this many bytes (1 KiB to 16 MiB).
     */
    public Builder maxLineBytes(int bytes) {
      if (bytes < 1024 || bytes > (16 << 20)) {
        throw new ConfigurationException(
            "maxLineBytes", "must be between 1024 and 16777216 but was " + bytes);
      }
      this.maxLineBytes = bytes;
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
     * true: a step's result means its processes are gone). This costs a builtin {@code kill} in the
     * launcher (or a pipe write to a long-lived group-kill helper in spawn mode). When off, a step
     * whose background jobs keep its stdout or stderr open ends only when they exit or close it.
     */
    public Builder killLeftoverProcesses(boolean kill) {
      this.killLeftoverProcesses = kill;
      return this;
    }

    public Builder timeSource(TimeSource time) {
      this.time = Objects.requireNonNull(time, "time");
      return this;
    }

    /**
     * The executor that runs the pipe readers (two blocking tasks per running script). It must be
     * able to run that many tasks at once (an unbounded or virtual-thread executor); the transport
     * does not shut it down.
     */
    public Builder ioExecutor(ExecutorService executor) {
      this.ioExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * How scripts are started: {@link StartMode#SPAWN_PER_SCRIPT} (the default) or {@link
     * StartMode#PERSISTENT_LAUNCHER} (about twice as fast a start; falls back to spawning by itself
     * when it cannot be used).
     */
    public Builder startMode(StartMode mode) {
      this.startMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** For tests: how long and how many loopback connections may stay silent. */
    Builder launcherLimits(Launcher.Limits limits) {
      this.launcherLimits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /** For tests: where executables are looked up. */
    Builder executables(Executables executables) {
      this.executables = executables;
      return this;
    }

    public LocalProcessTransport build() {
      return new LocalProcessTransport(this);
    }
  }
}
