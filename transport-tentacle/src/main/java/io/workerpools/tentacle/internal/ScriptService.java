package io.workerpools.tentacle.internal;

import io.workerpools.local.LocalScriptRunner;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.tentacle.internal.AgentOutcome.End;
import io.workerpools.tentacle.internal.Messages.ScriptStatus;
import io.workerpools.tentacle.internal.Messages.StartScript;
import io.workerpools.tentacle.internal.Workspace.State;
import io.workerpools.transport.SensitiveMasker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's script service: start, status, cancel and complete by ticket. Each ticket (made by
 * the host) gets a durable {@link Workspace}; a second start with the same ticket returns the
 * existing run's status: the script never runs twice. Runs are {@link ScriptRun}s; processes are
 * run by core's {@link LocalScriptRunner}, as on the built-in worker (clean environment, the same
 * interpreter flags, process groups); isolation by {@link IsolationMutexes}.
 *
 * <p>Threads: two reader threads per running process (stdout, stderr) and one per script waiting
 * for its isolation mutex, from a cached pool; exits are observed through {@link Process#onExit()}.
 */
public final class ScriptService implements AutoCloseable {
  /**
   * The longest log entry the agent hands on, in bytes of UTF-8: a longer line arrives in pieces,
   * cut by core's {@link io.workerpools.transport.LineSplitter} (never inside a sensitive value).
   */
  public static final int MAX_LOG_ENTRY_BYTES = 16 * 1024;

  /** Special exit codes, as Tentacle has them (see {@link AgentOutcome}). */
  public static final int CANCELLED = AgentOutcome.CANCELLED.code();

  public static final int TIMED_OUT = AgentOutcome.TIMED_OUT.code();
  public static final int UNKNOWN_TICKET = AgentOutcome.UNKNOWN_TICKET.code();
  public static final int UNKNOWN_RESULT = AgentOutcome.UNKNOWN_RESULT.code();
  public static final int COULD_NOT_START = AgentOutcome.COULD_NOT_START.code();
  public static final int MUTEX_TIMEOUT = AgentOutcome.MUTEX_TIMEOUT.code();

  private static final Logger LOG = LoggerFactory.getLogger(ScriptService.class);

  /** How long {@link #close} waits for cancelled scripts to end and their threads to stop. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  private static final Pattern TICKET = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final Path root;
  private final Map<String, ScriptRun> runs = new ConcurrentHashMap<>();
  private final IsolationMutexes mutexes = new IsolationMutexes();
  private final ExecutorService threads;
  private final LocalScriptRunner runner;
  private final AtomicInteger threadNo = new AtomicInteger();

  /**
   * Opens the work root (0700): runs left {@code PENDING} or {@code RUNNING} by a previous agent
   * process are marked {@code COMPLETE} with {@code UNKNOWN_RESULT}; workspaces older than {@code
   * retention} are deleted.
   */
  public ScriptService(Path root, Duration retention) {
    this.root = root;
    this.threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "agent-script-" + threadNo.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    // Core's local runner: the built-in worker's interpreter flags, a clean environment (only
    // HostEnvironment.clean() names of the agent's own environment reach scripts), process groups.
    this.runner =
        LocalScriptRunner.builder().name("this agent").maxLineBytes(MAX_LOG_ENTRY_BYTES).build();
    try {
      OwnerOnly.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the work directory " + root, e);
    }
    Workspace.recover(root, retention);
  }

  /** Checks a ticket (it becomes a directory name). */
  public static String checkTicket(String ticket) {
    if (ticket == null || !TICKET.matcher(ticket).matches()) {
      throw new IllegalArgumentException(
          "ticket '"
              + ticket
              + "' is not valid: use 1 to 128 letters, digits, '.', '_' or '-', starting with a"
              + " letter or digit");
    }
    return ticket;
  }

  /** Starts a script, or returns the status of the run already started with this ticket. */
  public ScriptStatus start(StartScript s) throws InterruptedException {
    String ticket = checkTicket(s.ticket());
    ScriptRun run;
    boolean created = false;
    synchronized (runs) {
      run = runs.get(ticket);
      if (run == null && new Workspace(root.resolve(ticket)).exists()) {
        run = load(ticket); // started before an agent restart: never run twice
      }
      if (run == null) {
        run = create(s);
        runs.put(ticket, run);
        created = true;
      }
    }
    if (created) {
      try {
        run.execute(s, false);
      } catch (RuntimeException e) {
        // Never leave a run PENDING: whatever failed, it ends, and says why.
        LOG.warn("cannot start ticket {}: {}", ticket, e.toString());
        run.end(End.of(AgentOutcome.COULD_NOT_START, "the agent could not start it: " + e));
      }
    }
    return run.awaitStatus(0, s.waitForMillis());
  }

  /** The status of a run, held up to {@code waitForMillis} until there is news. */
  public ScriptStatus status(String ticket, long after, long waitForMillis)
      throws InterruptedException {
    ScriptRun run = find(ticket);
    if (run == null) {
      return unknownTicket(ticket);
    }
    return run.awaitStatus(after, waitForMillis);
  }

  /** Kills the run's process tree; returns its status. */
  public ScriptStatus cancel(String ticket) throws InterruptedException {
    ScriptRun run = find(ticket);
    if (run == null) {
      return unknownTicket(ticket);
    }
    run.cancel(End.of(AgentOutcome.CANCELLED, "cancelled on request"));
    return run.awaitStatus(Long.MAX_VALUE, 2000);
  }

  /** The host has read everything: deletes the workspace. Cancels the run if it still runs. */
  public ScriptStatus complete(String ticket) throws InterruptedException {
    ScriptRun run = find(ticket);
    if (run == null) {
      return unknownTicket(ticket);
    }
    if (!run.isComplete()) {
      run.cancel(End.of(AgentOutcome.CANCELLED, "completed by the host before it ended"));
      run.awaitStatus(Long.MAX_VALUE, 5000);
    }
    ScriptStatus st = run.snapshot(Long.MAX_VALUE);
    synchronized (runs) {
      runs.remove(ticket);
      run.workspace.delete();
    }
    return st;
  }

  /** The tickets of runs that have not completed. */
  public List<String> running() {
    List<String> out = new ArrayList<>();
    runs.forEach(
        (t, r) -> {
          if (!r.isComplete()) {
            out.add(t);
          }
        });
    return out;
  }

  /** Waits for running scripts to end, up to the timeout; returns whether all ended. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (ScriptRun r : runs.values()) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0 || !r.awaitComplete(left)) {
        return false;
      }
    }
    return true;
  }

  private ScriptRun find(String ticket) {
    checkTicket(ticket);
    synchronized (runs) {
      ScriptRun run = runs.get(ticket);
      if (run == null && new Workspace(root.resolve(ticket)).exists()) {
        run = load(ticket);
      }
      return run;
    }
  }

  private ScriptRun load(String ticket) {
    Workspace ws = new Workspace(root.resolve(ticket));
    try {
      ScriptRun run = newRun(ticket, ws, SensitiveMasker.none(), ws.readState());
      run.log.addAll(ws.readLog());
      runs.put(ticket, run);
      return run;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the workspace of ticket " + ticket, e);
    }
  }

  private ScriptRun create(StartScript s) {
    try {
      Workspace ws = Workspace.create(root.resolve(s.ticket()));
      State st = new State(s.ticket(), "PENDING", null, 0, "", System.currentTimeMillis(), 0);
      ws.writeState(st);
      SensitiveMasker masker =
          SensitiveMasker.of(s.sensitiveValues() == null ? List.of() : s.sensitiveValues());
      return newRun(s.ticket(), ws, masker, st);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the workspace of ticket " + s.ticket(), e);
    }
  }

  private ScriptRun newRun(String ticket, Workspace ws, SensitiveMasker masker, State st) {
    return new ScriptRun(ticket, ws, masker, st, threads, runner, mutexes);
  }

  private static ScriptStatus unknownTicket(String ticket) {
    return new ScriptStatus(
        ticket,
        "COMPLETE",
        AgentOutcome.UNKNOWN_TICKET.name(),
        AgentOutcome.UNKNOWN_TICKET.code(),
        List.of(),
        0,
        "this agent has no script with ticket "
            + ticket
            + " (never started, or already completed)");
  }

  static void deleteTree(Path dir) {
    Workspace.deleteTree(dir);
  }

  /** Validates a start request before anything is created. */
  public static void validate(StartScript s) {
    checkTicket(s.ticket());
    if (s.syntax() == null) {
      throw new IllegalArgumentException("'syntax' is required");
    }
    try {
      ScriptSyntax.valueOf(s.syntax());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown script syntax '" + s.syntax() + "': use BASH, SH, PYTHON or POWERSHELL");
    }
    if (s.body() == null) {
      throw new IllegalArgumentException("'body' is required");
    }
    if (s.isolation() != null && !s.isolation().equals("FULL") && !s.isolation().equals("NONE")) {
      throw new IllegalArgumentException(
          "isolation '" + s.isolation() + "' is not valid: use FULL or NONE");
    }
    if (s.files() != null) {
      for (Messages.ScriptFileEntry f : s.files()) {
        if (f == null || f.base64() == null) {
          throw new IllegalArgumentException("'files' entries need a name and base64 content");
        }
        FileService.checkRelative(f.name());
      }
    }
    if (s.arguments() != null && s.arguments().contains(null)) {
      throw new IllegalArgumentException("'arguments' must not contain null");
    }
    if (s.sensitiveValues() != null && s.sensitiveValues().contains(null)) {
      throw new IllegalArgumentException("'sensitiveValues' must not contain null");
    }
    if (s.environment() != null) {
      for (Map.Entry<String, String> e : s.environment().entrySet()) {
        if (e.getKey() == null || e.getValue() == null || e.getKey().isEmpty()) {
          throw new IllegalArgumentException(
              "'environment' entry '" + e.getKey() + "' needs a non-empty name and a value");
        }
      }
    }
  }

  /**
   * Cancels every run and returns once their processes have ended and their final state is on disk
   * (so nothing writes into a workspace after the agent has closed), or after {@link #CLOSE_WAIT}
   * at most; a run still not ended then is logged and left to its daemon threads.
   */
  @Override
  public void close() {
    long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
    for (ScriptRun r : runs.values()) {
      r.cancel(End.of(AgentOutcome.CANCELLED, "the agent shut down"));
    }
    try {
      for (ScriptRun r : runs.values()) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0 || !r.awaitComplete(left)) {
          LOG.warn("script {} had not ended {} after the agent cancelled it", r.ticket, CLOSE_WAIT);
          break;
        }
      }
      runner.close();
      threads.shutdownNow();
      threads.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      runner.close();
      threads.shutdownNow();
    }
    for (ScriptRun r : runs.values()) {
      r.workspace.closeLog();
    }
  }
}
