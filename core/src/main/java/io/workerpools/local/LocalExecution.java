package io.workerpools.local;

import io.workerpools.local.internal.Launcher;
import io.workerpools.local.internal.WorkingDirectories;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.transport.LineSplitter;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.SensitiveMasker;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One script run by {@link LocalProcessTransport}: its process, its pipes, its ending. */
final class LocalExecution implements ScriptExecution {
  private static final Logger LOG = LoggerFactory.getLogger(LocalExecution.class);
  private static final Pattern USER_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?");

  private final LocalProcessTransport transport;
  private final Worker worker;
  private final ScriptRequest request;
  private final LogSink sink;
  private final SensitiveMasker masker;
  private final CompletableFuture<ScriptResult> result = new CompletableFuture<>();
  private final long startNanos;
  private final Object sinkLock = new Object();

  /** Set once, by the first of cancel / timeout that happens while the process still runs. */
  private final AtomicReference<ScriptResult.Outcome> killedFor = new AtomicReference<>();

  private final AtomicBoolean killIssued = new AtomicBoolean();
  private final AtomicReference<ScriptResult.Outcome> pendingKill = new AtomicReference<>();
  private final AtomicInteger openPipes = new AtomicInteger(2);
  private final AtomicBoolean completed = new AtomicBoolean();
  private final AtomicBoolean completing = new AtomicBoolean();
  private volatile Process process;
  private volatile long launcherPid = -1;
  private volatile boolean viaLauncher;
  private LineSplitter splitOut; // launcher mode: fed by the launcher's output thread
  private LineSplitter splitErr;
  private volatile boolean ownGroup;
  private volatile boolean cancelRequested;
  private volatile Integer exitCode;
  private volatile Path workDir;
  private volatile Path scriptFile;
  private volatile ScheduledFuture<?> timeoutTask;

  LocalExecution(
      LocalProcessTransport transport, Worker worker, ScriptRequest request, LogSink sink) {
    this.transport = transport;
    this.worker = worker;
    this.request = request;
    this.sink = sink;
    this.masker = request.masker();
    this.startNanos = transport.time().nanoTime();
  }

  @Override
  public String executionId() {
    return request.executionId();
  }

  @Override
  public CompletionStage<ScriptResult> result() {
    return result;
  }

  @Override
  public void cancel() {
    cancelRequested = true;
    kill(ScriptResult.Outcome.CANCELLED);
  }

  /** Ends the execution before any process started. */
  void fail(String message) {
    complete(ScriptResult.of(ScriptResult.Outcome.COULD_NOT_START, elapsed(), message));
  }

  void launch() {
    List<String> command;
    try {
      command = prepare();
    } catch (CouldNotStart | UnsafeDirectoryException e) {
      fail(e.getMessage());
      return;
    } catch (IOException | RuntimeException e) {
      fail("could not prepare the working directory on worker " + worker.name() + ": " + e);
      return;
    }
    Launcher launcher = request.runAsUser().isEmpty() ? transport.launcher() : null;
    if (launcher != null && Launcher.canLaunch(command, request.environment())) {
      viaLauncher = true;
      splitOut = splitter(LogLine.Source.STDOUT);
      splitErr = splitter(LogLine.Source.STDERR);
      try {
        launcher.launch(
            workDir,
            command,
            request.environment(),
            transport.killLeftoverProcesses(),
            new FromLauncher());
        scheduleTimeout();
        return;
      } catch (IOException e) {
        viaLauncher = false;
        LOG.warn(
            "the local launcher could not take {}; starting it as its own process: {}",
            executionId(),
            e.toString());
      }
    }
    if (transport.setsid().isPresent()) {
      command.add(0, transport.setsid().get().toString());
      ownGroup = true;
    }
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
    Map<String, String> env = pb.environment();
    env.clear();
    env.putAll(
        request.runAsUser().isPresent()
            ? transport.hostEnvironment().selectForOtherUser(System.getenv())
            : transport.hostEnvironment().select(System.getenv()));
    env.putAll(request.environment());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      fail(
          "could not start "
              + command.get(ownGroup ? 1 : 0)
              + " on worker "
              + worker.name()
              + ": "
              + e.getMessage());
      return;
    }
    process = p;
    try {
      p.getOutputStream().close(); // scripts that read stdin see its end at once
    } catch (IOException e) {
      LOG.debug("closing stdin of {} failed", executionId(), e);
    }
    try {
      transport.io().execute(() -> pump(p.getInputStream(), LogLine.Source.STDOUT));
      transport.io().execute(() -> pump(p.getErrorStream(), LogLine.Source.STDERR));
    } catch (RejectedExecutionException e) {
      killNow();
      openPipes.set(0);
    }
    scheduleTimeout();
    // Runs on the JDK's exit-notification thread: quick work only (a pipe write, maybe completing).
    p.onExit().thenRun(this::onProcessExit);
    if (cancelRequested) {
      kill(ScriptResult.Outcome.CANCELLED);
    }
  }

  private void scheduleTimeout() {
    if (request.timeout().isPresent()) {
      try {
        timeoutTask =
            transport
                .scheduler()
                .schedule(
                    () -> kill(ScriptResult.Outcome.TIMED_OUT),
                    request.timeout().get().toNanos(),
                    TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        kill(ScriptResult.Outcome.CANCELLED); // the transport is closing: it cancels what runs
      }
    }
  }

  /**
   * Writes the script and files; returns the command line (interpreter, script path, arguments),
   * without the {@code setsid} the classic path puts in front.
   */
  private List<String> prepare() throws IOException {
    ScriptSyntax syntax = request.syntax();
    String interpreterName = transport.interpreterCommand(syntax);
    Optional<Path> interpreter = transport.interpreter(syntax);
    if (interpreter.isEmpty()) {
      throw new CouldNotStart(
          "interpreter '"
              + interpreterName
              + "' for "
              + syntax
              + " scripts was not found on worker '"
              + worker.name()
              + "' ("
              + worker.id()
              + "); install it, configure its path with"
              + " LocalProcessTransport.builder().interpreter(ScriptSyntax."
              + syntax
              + ", \"/path/to/"
              + interpreterName
              + "\"), or run this step on a worker that has it");
    }
    List<String> prefix = new ArrayList<>();
    UserPrincipal owner = null;
    if (request.runAsUser().isPresent()) {
      String user = request.runAsUser().get();
      if (!USER_NAME.matcher(user).matches()) {
        throw new CouldNotStart("runAsUser '" + user + "' is not a valid OS user name");
      }
      if (!transport.runningAsRoot()) {
        throw new CouldNotStart(
            "running a script as user '"
                + user
                + "' on worker '"
                + worker.name()
                + "' needs the host process to run as root (it switches user with runuser or"
                + " sudo); run the host as root or remove runAsUser from the request");
      }
      Optional<Path> switcher = transport.userSwitcher();
      if (switcher.isEmpty()) {
        throw new CouldNotStart(
            "running a script as user '"
                + user
                + "' needs 'runuser' (util-linux) or 'sudo' on PATH");
      }
      try {
        owner =
            transport
                .base()
                .getFileSystem()
                .getUserPrincipalLookupService()
                .lookupPrincipalByName(user);
      } catch (UserPrincipalNotFoundException e) {
        throw new CouldNotStart(
            "runAsUser '" + user + "' is not a user on worker '" + worker.name() + "'");
      }
      prefix.add(switcher.get().toString());
      prefix.add("-u");
      prefix.add(user);
      if (!switcher.get().getFileName().toString().equals("runuser")) {
        // sudo resets the environment unless told to keep it: what it keeps is what we pass, which
        // holds nothing of the host's but PATH, LANG, TZ, LC_* (runuser keeps it without asking,
        // and sets HOME, SHELL, USER and LOGNAME to the other user's)
        prefix.add("-E");
      }
      prefix.add("--");
    }
    workDir = transport.workingDirectories().newStepDirectory();
    Path script = workDir.resolve("script" + extension(syntax));
    scriptFile = script;
    WorkingDirectories.writeNew(script, request.body().getBytes(StandardCharsets.UTF_8));
    for (ScriptRequest.ScriptFile f : request.files()) {
      Path target = workDir.resolve(f.name()).normalize();
      if (!target.startsWith(workDir) || target.equals(workDir)) {
        throw new CouldNotStart("file '" + f.name() + "' would land outside the working directory");
      }
      WorkingDirectories.createDirectoriesUnder(workDir, target.getParent());
      WorkingDirectories.writeNew(target, f.content());
    }
    if (owner != null) {
      WorkingDirectories.chownTree(workDir, owner);
    }
    List<String> command = new ArrayList<>();
    command.addAll(prefix);
    command.add(interpreter.get().toString());
    switch (syntax) {
      case POWERSHELL ->
          command.addAll(
              List.of(
                  "-NoLogo",
                  "-NoProfile",
                  "-NonInteractive",
                  "-ExecutionPolicy",
                  "Bypass",
                  "-File"));
      case PYTHON -> command.add("-u"); // unbuffered: lines arrive as they are printed
      default -> {}
    }
    command.add(script.toString());
    command.addAll(request.arguments());
    return command;
  }

  private static String extension(ScriptSyntax syntax) {
    return switch (syntax) {
      case POWERSHELL -> ".ps1";
      case PYTHON -> ".py";
      default -> ".sh";
    };
  }

  private void pump(InputStream in, LogLine.Source source) {
    LineSplitter splitter = splitter(source);
    try (in) {
      splitter.pump(in);
    } catch (IOException e) {
      // The pipe was closed under us (process killed): what was read has been delivered.
      splitter.finish();
      LOG.debug("{} of {} ended: {}", source, executionId(), e.toString());
    } catch (RuntimeException e) {
      LOG.warn("reading {} of {} failed", source, executionId(), e);
    } finally {
      if (openPipes.decrementAndGet() == 0) {
        maybeComplete();
      }
    }
  }

  /** Lines of one stream, masked; long ones cut but never through a sensitive value. */
  private LineSplitter splitter(LogLine.Source source) {
    return LineSplitter.masking(
        transport.maxLineBytes(), masker, masked -> deliver(source, masked));
  }

  private void deliver(LogLine.Source source, String masked) {
    synchronized (sinkLock) {
      try {
        sink.onLine(new LogLine(transport.time().now(), source, masked));
      } catch (RuntimeException e) {
        LOG.warn("log sink of {} threw; line dropped", executionId(), e);
      }
    }
  }

  private void onProcessExit() {
    Process p = process;
    ScheduledFuture<?> t = timeoutTask;
    if (t != null) {
      t.cancel(false);
    }
    if (ownGroup && transport.killLeftoverProcesses() && killedFor.get() == null) {
      // Background jobs the script left running would outlive the step, and would hold its output
      // pipes open (so that our readers never see their end): end the whole group. Not waited for:
      // the pipes close when the signal lands, and the result waits for the pipes.
      transport.processTree().killGroupSoon(p.pid(), transport.io());
    }
    exitCode = p.exitValue();
    maybeComplete();
  }

  private void kill(ScriptResult.Outcome why) {
    Process p = process;
    long lp = launcherPid;
    if (p == null && lp < 0) {
      // launch() checks cancelRequested once the process exists; onStarted checks pendingKill
      pendingKill.compareAndSet(null, why);
      if (launcherPid < 0) {
        return;
      }
    }
    boolean alive = p != null ? p.isAlive() : exitCode == null;
    if (exitCode == null && alive) {
      killedFor.compareAndSet(null, why);
    }
    if (p == null && exitCode != null && transport.killLeftoverProcesses()) {
      return; // the launcher has already killed the group when the script exited
    }
    if (killIssued.compareAndSet(false, true)) {
      try {
        transport.io().execute(this::killNow);
      } catch (RejectedExecutionException e) {
        killNow();
      }
    }
  }

  private void killNow() {
    Process p = process;
    if (p != null) {
      transport.processTree().killAll(p.toHandle(), ownGroup);
      return;
    }
    long lp = launcherPid;
    if (lp > 0) {
      Optional<ProcessHandle> h = ProcessHandle.of(lp);
      if (h.isPresent()) {
        transport.processTree().killAll(h.get(), true);
      } else {
        transport.processTree().killGroup(lp); // the leader is gone; its group may not be
      }
    }
  }

  /** Reports from the persistent launcher, on its threads. */
  private final class FromLauncher implements Launcher.Listener {
    @Override
    public void onStarted(long pid) {
      launcherPid = pid;
      ScriptResult.Outcome pending = pendingKill.get();
      if (pending != null) {
        kill(pending);
      }
    }

    @Override
    public void onOutput(boolean stdout, byte[] bytes, int offset, int length) {
      (stdout ? splitOut : splitErr).accept(bytes, offset, length);
    }

    @Override
    public void onStreamEnd(boolean stdout) {
      (stdout ? splitOut : splitErr).finish();
      if (openPipes.decrementAndGet() == 0) {
        maybeComplete();
      }
    }

    @Override
    public void onExit(int status) {
      ScheduledFuture<?> t = timeoutTask;
      if (t != null) {
        t.cancel(false);
      }
      exitCode = status;
      maybeComplete();
    }

    @Override
    public void onCouldNotStart(String why) {
      fail(why + " on worker " + worker.name());
    }

    @Override
    public void onLost(String why, long pid) {
      if (pid > 0) {
        launcherPid = pid;
        killedFor.compareAndSet(null, ScriptResult.Outcome.WORKER_LOST);
        try {
          transport.io().execute(LocalExecution.this::killNow); // may wait: not on this thread
        } catch (RejectedExecutionException e) {
          killNow();
        }
      }
      complete(
          ScriptResult.of(
              ScriptResult.Outcome.WORKER_LOST,
              elapsed(),
              why + "; it was not started again (worker " + worker.name() + ")"));
    }
  }

  private void maybeComplete() {
    Integer code = exitCode;
    if (code == null || openPipes.get() > 0) {
      return;
    }
    if (!completing.compareAndSet(false, true)) {
      return;
    }
    ScriptResult.Outcome why = killedFor.get();
    ScriptResult r;
    if (why == ScriptResult.Outcome.TIMED_OUT) {
      r =
          ScriptResult.of(
              why,
              elapsed(),
              "ran longer than its timeout of "
                  + request.timeout().map(Duration::toString).orElse("?")
                  + "; the process tree was killed");
    } else if (why != null) {
      r = ScriptResult.of(why, elapsed(), "cancelled; the process tree was killed");
    } else {
      r = ScriptResult.exited(code, elapsed());
    }
    complete(r);
  }

  private void complete(ScriptResult r) {
    if (!completed.compareAndSet(false, true)) {
      return;
    }
    ScheduledFuture<?> t = timeoutTask;
    if (t != null) {
      t.cancel(false);
    }
    Path dir = workDir;
    if (dir != null && !request.keepWorkingDirectory()) {
      removeWorkDir(dir);
    }
    transport.finished(this);
    result.complete(r);
  }

  private Duration elapsed() {
    return Duration.ofNanos(transport.time().nanoTime() - startNanos);
  }

  /** Two unlinks when the script left nothing behind (the usual case); a tree walk otherwise. */
  private void removeWorkDir(Path dir) {
    Path script = scriptFile;
    if (request.files().isEmpty() && script != null) {
      try {
        Files.deleteIfExists(script);
        Files.delete(dir);
        return;
      } catch (IOException e) {
        // not empty (the script made files): walk it
      }
    }
    WorkingDirectories.deleteTree(dir);
  }

  @Override
  public String toString() {
    return "LocalExecution["
        + executionId()
        + " on "
        + worker.id()
        + (viaLauncher ? " via the launcher" : "")
        + "]";
  }

  /** A reason the script cannot start, in words for the user. */
  private static final class CouldNotStart extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CouldNotStart(String message) {
      super(message, null, false, false);
    }
  }
}
