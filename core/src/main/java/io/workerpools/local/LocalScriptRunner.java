package io.workerpools.local;

import io.workerpools.ConfigurationException;
import io.workerpools.local.LocalProcessTransport.StartMode;
import io.workerpools.local.internal.Commands;
import io.workerpools.local.internal.CouldNotStart;
import io.workerpools.local.internal.Executables;
import io.workerpools.local.internal.Launcher;
import io.workerpools.local.internal.LauncherStarter;
import io.workerpools.local.internal.ProcessTree;
import io.workerpools.local.internal.SpawnStarter;
import io.workerpools.local.internal.StartSpec;
import io.workerpools.local.internal.Starter;
import io.workerpools.local.internal.WorkingDirectories;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.time.TimeSource;
import io.workerpools.transport.LineSplitter;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs scripts as processes of this host, each in a working directory its caller provides: the part
 * of the built-in worker ({@link LocalProcessTransport}) that another module can reuse (an agent
 * running scripts on its own machine).
 *
 * <p>{@link #start} writes the request's script ({@code script.sh}, {@code .ps1} or {@code .py})
 * and files into the directory (new files, mode 0600, never through a link), runs {@code
 * <interpreter> <script> <args>} there with the environment its {@link HostEnvironment} policy
 * gives plus the request's variables, in its own process group, and streams its output masked line
 * by line to the sink. Cancel, timeout and (unless {@link Builder#killLeftoverProcesses(boolean)
 * off}) the script's exit kill the whole group. The caller owns the directory: it must exist, be
 * private to this host's user, and be removed by the caller afterwards. {@link
 * ScriptRequest#runAsUser()} runs the script as another OS user (the host must be root); the
 * directory is then handed to that user.
 *
 * <p>Threads: in the default {@link StartMode#PERSISTENT_LAUNCHER} mode a bounded number, whatever
 * the number of running scripts: the launcher's output thread, one event thread per launcher
 * process (at most 4), one timer thread, the process-group helper's reader. Scripts the launcher
 * cannot take, and every script in {@link StartMode#SPAWN_PER_SCRIPT} mode, cost two pooled reader
 * threads and the JDK's reaper thread while they run. {@link #start} writes the files and hands the
 * script over on the caller's thread. Thread-safe; close it to stop its threads.
 */
public final class LocalScriptRunner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LocalScriptRunner.class);

  private final Commands commands;
  private final HostEnvironment hostEnvironment;
  private final Map<String, String> ownUserBase;
  private final Map<String, String> otherUserBase;
  private final int maxLineBytes;
  private final boolean killLeftoverProcesses;
  private final TimeSource time;
  private final ExecutorService io;
  private final boolean ownsIo;
  private final ScheduledExecutorService scheduler;
  private final ProcessTree processTree;
  private final StartMode startMode;
  private final Starter starter;
  private final LauncherStarter launcherStarter; // null in spawn mode
  private final String name;
  private final Set<LocalExecution> running = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private LocalScriptRunner(Builder b) {
    Executables exe = b.executables != null ? b.executables : Executables.fromEnvironment();
    this.commands = new Commands(b.interpreters, exe, Commands.isRoot());
    this.hostEnvironment = b.hostEnvironment;
    Map<String, String> host = System.getenv();
    this.ownUserBase = Map.copyOf(hostEnvironment.select(host));
    this.otherUserBase = Map.copyOf(hostEnvironment.selectForOtherUser(host));
    this.maxLineBytes = b.maxLineBytes;
    this.killLeftoverProcesses = b.killLeftoverProcesses;
    this.time = b.time;
    this.name = b.name;
    this.startMode = b.startMode;
    this.processTree = new ProcessTree(exe.find("kill"), exe.find("bash"));
    if (b.ioExecutor != null) {
      this.io = b.ioExecutor;
      this.ownsIo = false;
    } else {
      this.io = Executors.newCachedThreadPool(daemonThreads("workerpools-local-io-"));
      this.ownsIo = true;
    }
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(daemonThreads("workerpools-local-timer-"));
    Optional<Path> setsid = exe.find("setsid");
    if (setsid.isEmpty()) {
      LOG.warn(
          "'setsid' is not on PATH: scripts that cannot use the launcher are started without a"
              + " process group of their own, so cancelling one kills only the processes still"
              + " descended from it. Install util-linux.");
    }
    SpawnStarter spawn = new SpawnStarter(setsid, io, processTree);
    if (startMode == StartMode.PERSISTENT_LAUNCHER) {
      this.launcherStarter =
          new LauncherStarter(exe.find("bash"), ownUserBase, b.launcherLimits, spawn);
      this.starter = launcherStarter;
    } else {
      this.launcherStarter = null;
      this.starter = spawn;
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs {@code request} in {@code workingDirectory} (which must exist and be private to this
   * host's user; the caller removes it afterwards). Never throws for a script that cannot start:
   * its result says {@code COULD_NOT_START} and why.
   */
  public ScriptExecution start(ScriptRequest request, Path workingDirectory, LogSink sink) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(workingDirectory, "workingDirectory");
    Objects.requireNonNull(sink, "sink");
    return start(request, workingDirectory.toAbsolutePath(), sink, name, () -> {});
  }

  /**
   * As the public {@link #start}, naming {@code where} in messages; {@code onEnd} before the
   * result.
   */
  ScriptExecution start(
      ScriptRequest request, Path dir, LogSink sink, String where, Runnable onEnd) {
    LocalExecution exec = new LocalExecution(this, request, sink, where, onEnd);
    if (closed) {
      exec.fail("the local process transport is closed");
      return exec;
    }
    StartSpec spec;
    try {
      spec = prepare(request, dir, where);
    } catch (CouldNotStart | UnsafeDirectoryException e) {
      exec.fail(e.getMessage());
      return exec;
    } catch (IOException | RuntimeException e) {
      exec.fail("could not prepare the working directory on " + where + ": " + e);
      return exec;
    }
    running.add(exec);
    exec.scheduleTimeout();
    try {
      starter.start(spec, exec);
    } catch (IOException e) {
      exec.fail("could not start " + spec.argv().get(0) + " on " + where + ": " + e.getMessage());
    }
    return exec;
  }

  /** An execution that has ended as could-not-start, for {@code message}. */
  ScriptExecution failed(ScriptRequest request, LogSink sink, String where, String message) {
    LocalExecution exec = new LocalExecution(this, request, sink, where, () -> {});
    exec.fail(message);
    return exec;
  }

  /** Writes the script and its files; returns what to start. */
  private StartSpec prepare(ScriptRequest request, Path dir, String where) throws IOException {
    Optional<UserPrincipal> other = commands.otherUser(request, where);
    Path script = dir.resolve(Commands.scriptFileName(request.syntax()));
    List<String> argv = commands.argv(request, script, where); // checks the interpreter first
    WorkingDirectories.writeNew(script, request.body().getBytes(StandardCharsets.UTF_8));
    for (ScriptRequest.ScriptFile f : request.files()) {
      Path target = dir.resolve(f.name()).normalize();
      if (!target.startsWith(dir) || target.equals(dir)) {
        throw new CouldNotStart("file '" + f.name() + "' would land outside the working directory");
      }
      WorkingDirectories.createDirectoriesUnder(dir, target.getParent());
      WorkingDirectories.writeNew(target, f.content());
    }
    if (other.isPresent()) {
      WorkingDirectories.chownTree(dir, other.get());
    }
    Map<String, String> env = new LinkedHashMap<>(other.isPresent() ? otherUserBase : ownUserBase);
    env.putAll(request.environment());
    return new StartSpec(dir, argv, env, killLeftoverProcesses);
  }

  /** How scripts are started. */
  public StartMode startMode() {
    return startMode;
  }

  /** Which of the host's environment variables scripts see. */
  public HostEnvironment hostEnvironment() {
    return hostEnvironment;
  }

  /** Whether scripts go through the persistent launcher now (it starts with the first script). */
  public boolean launcherActive() {
    return launcherStarter != null && launcherStarter.active();
  }

  /** The number of scripts running now. */
  public int runningCount() {
    return running.size();
  }

  List<Long> launcherPids() {
    return launcherStarter == null ? List.of() : launcherStarter.pids();
  }

  int launcherPort() {
    return launcherStarter == null ? -1 : launcherStarter.port();
  }

  boolean runningAsRoot() {
    return commands.runningAsRoot();
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

  /** Cancels every running script and stops this runner's threads. */
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
    starter.close(); // the launcher's output thread ends once the cancelled scripts have ended
    // Cancelled scripts have been signalled (cancel kills on the io threads, which may still be
    // busy): the helper stops once they are done with it; later kills spawn kill instead.
    try {
      io.execute(processTree::close);
    } catch (RejectedExecutionException e) {
      processTree.close();
    }
    if (ownsIo) {
      io.shutdown();
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

  /**
   * Builds a {@link LocalScriptRunner}. Defaults: the persistent launcher, a clean environment
   * ({@link HostEnvironment#clean()}), interpreters {@code bash}, {@code sh}, {@code pwsh}, {@code
   * python3} looked up on {@code PATH}, 64 KiB line cap, leftover processes killed, system time.
   */
  public static final class Builder {
    private final Map<ScriptSyntax, String> interpreters = new EnumMap<>(ScriptSyntax.class);
    private HostEnvironment hostEnvironment = HostEnvironment.clean();
    private int maxLineBytes = LineSplitter.DEFAULT_MAX_LINE_BYTES;
    private boolean killLeftoverProcesses = true;
    private TimeSource time = TimeSource.system();
    private ExecutorService ioExecutor;
    private Executables executables;
    private StartMode startMode = StartMode.PERSISTENT_LAUNCHER;
    private Launcher.Limits launcherLimits = Launcher.Limits.DEFAULT;
    private String name = "this host";

    private Builder() {
      interpreters.put(ScriptSyntax.BASH, "bash");
      interpreters.put(ScriptSyntax.SH, "sh");
      interpreters.put(ScriptSyntax.POWERSHELL, "pwsh");
      interpreters.put(ScriptSyntax.PYTHON, "python3");
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

    /** Which of the host's environment variables scripts see ({@link HostEnvironment#clean()}). */
    public Builder hostEnvironment(HostEnvironment policy) {
      this.hostEnvironment = Objects.requireNonNull(policy, "policy");
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

    /** Whether processes a script leaves running in the background die when it exits (true). */
    public Builder killLeftoverProcesses(boolean kill) {
      this.killLeftoverProcesses = kill;
      return this;
    }

    public Builder timeSource(TimeSource time) {
      this.time = Objects.requireNonNull(time, "time");
      return this;
    }

    /**
     * The executor for blocking work: pipe readers of spawned scripts (two tasks per script while
     * it runs) and kills. It must be able to run that many tasks at once (an unbounded or
     * virtual-thread executor); the runner does not shut it down.
     */
    public Builder ioExecutor(ExecutorService executor) {
      this.ioExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** How scripts are started ({@link StartMode#PERSISTENT_LAUNCHER} by default). */
    public Builder startMode(StartMode mode) {
      this.startMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** What messages call the place scripts run: "this host" by default. */
    public Builder name(String name) {
      if (name == null || name.isBlank()) {
        throw new ConfigurationException("name", "must not be blank");
      }
      this.name = name;
      return this;
    }

    Builder executables(Executables executables) {
      this.executables = executables;
      return this;
    }

    Builder launcherLimits(Launcher.Limits limits) {
      this.launcherLimits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    public LocalScriptRunner build() {
      return new LocalScriptRunner(this);
    }
  }
}
