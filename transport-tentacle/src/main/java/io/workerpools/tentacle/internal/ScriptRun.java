package io.workerpools.tentacle.internal;

import io.workerpools.local.LocalScriptRunner;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.tentacle.internal.AgentOutcome.End;
import io.workerpools.tentacle.internal.Messages.LogEntry;
import io.workerpools.tentacle.internal.Messages.ScriptStatus;
import io.workerpools.tentacle.internal.Messages.StartScript;
import io.workerpools.tentacle.internal.Workspace.State;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.SensitiveMasker;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One script run on the agent: PENDING (waiting for its isolation mutex) → RUNNING (its process) →
 * COMPLETE with an {@link AgentOutcome}. Its log and state are guarded by its monitor and kept in
 * its {@link Workspace}. A cancel or timeout that comes first decides the outcome; a cancel while
 * waiting for the mutex ends the wait at once.
 */
final class ScriptRun {
  private static final Logger LOG = LoggerFactory.getLogger(ScriptRun.class);

  /** The most log text one status reply carries, in (estimated) JSON bytes: 8 MiB. */
  static final long MAX_REPLY_LOG_BYTES = 8L * 1024 * 1024;

  final String ticket;
  final Workspace workspace;
  private final SensitiveMasker masker;
  private final ExecutorService threads;
  private final IsolationMutexes mutexes;
  final List<LogEntry> log = new ArrayList<>();
  private final List<Runnable> onComplete = new ArrayList<>();
  private State state;
  private final LocalScriptRunner runner;
  private ScriptExecution execution;
  private End pendingEnd; // chosen by cancel/timeout before the process exited
  private Thread waiter; // the thread waiting for this run's isolation mutex, if any

  ScriptRun(
      String ticket,
      Workspace workspace,
      SensitiveMasker masker,
      State state,
      ExecutorService threads,
      LocalScriptRunner runner,
      IsolationMutexes mutexes) {
    this.ticket = ticket;
    this.workspace = workspace;
    this.masker = masker;
    this.state = state;
    this.threads = threads;
    this.runner = runner;
    this.mutexes = mutexes;
  }

  synchronized boolean isComplete() {
    return "COMPLETE".equals(state.state());
  }

  /**
   * Takes the mutex and spawns: on this thread when the mutex is free at once (one thread hop less
   * on the critical path of a short script), else on the pool, waiting in turn.
   */
  void execute(StartScript s, boolean mayBlock) {
    boolean exclusive = "FULL".equals(s.isolation());
    IsolationMutexes.Held held = null;
    try {
      held = mutexes.tryTake(s.mutexName(), exclusive);
      if (held == null && !mayBlock) {
        threads.execute(() -> execute(s, true));
        return;
      }
      if (held == null) {
        append(
            "DEBUG",
            "Waiting for the '"
                + s.mutexName()
                + "' mutex ("
                + (exclusive ? "exclusive" : "shared")
                + ") held by another script");
        synchronized (this) {
          if (pendingEnd != null) {
            endLocked(pendingEnd);
            return;
          }
          waiter = Thread.currentThread(); // cancel interrupts the wait
        }
        try {
          held = mutexes.take(s.mutexName(), exclusive, s.mutexTimeoutMillis());
        } catch (InterruptedException e) {
          synchronized (this) {
            waiter = null;
            if (pendingEnd != null) {
              Thread.interrupted();
              endLocked(pendingEnd);
              return;
            }
          }
          throw e;
        } finally {
          synchronized (this) {
            waiter = null;
          }
        }
        if (held == null) {
          end(
              End.of(
                  AgentOutcome.MUTEX_TIMEOUT,
                  "waited "
                      + s.mutexTimeoutMillis()
                      + " ms for the '"
                      + s.mutexName()
                      + "' mutex"));
          return;
        }
      }
      synchronized (this) {
        if (pendingEnd != null) {
          endLocked(pendingEnd);
          return;
        }
      }
      try {
        spawn(s);
      } catch (RuntimeException e) {
        end(End.of(AgentOutcome.COULD_NOT_START, "the agent could not start it: " + e));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      end(End.of(AgentOutcome.CANCELLED, "the agent shut down before the script started"));
    } finally {
      if (held != null) {
        IsolationMutexes.Held h = held;
        boolean started;
        synchronized (this) {
          started = execution != null && !isComplete();
        }
        if (started) {
          whenComplete(h::release);
        } else {
          h.release();
        }
      }
    }
  }

  private void whenComplete(Runnable r) {
    synchronized (this) {
      if (!isComplete()) {
        onComplete.add(r);
        return;
      }
    }
    r.run();
  }

  /**
   * Runs the script through core's {@link LocalScriptRunner} (as the built-in worker does: its
   * interpreter flags, a clean environment, its own process group, leftovers killed on exit), in
   * the workspace's {@code work/} directory; its lines go to this run's durable log.
   */
  private void spawn(StartScript s) {
    ScriptRequest request;
    try {
      request = toRequest(s);
    } catch (RuntimeException e) {
      end(End.of(AgentOutcome.COULD_NOT_START, "the agent could not read the request: " + e));
      return;
    }
    ScriptExecution exec;
    synchronized (this) {
      if (pendingEnd != null) {
        endLocked(pendingEnd);
        return;
      }
      exec =
          runner.start(
              request, workspace.workDir(), line -> append(line.source().name(), line.text()));
      execution = exec;
      // In memory only: on disk the run stays PENDING until it completes, which a restarted agent
      // reports as UNKNOWN_RESULT just the same (one atomic file write less per script).
      state = new State(ticket, "RUNNING", null, 0, "", state.startedMillis(), 0);
      notifyAll();
    }
    exec.result()
        .whenComplete(
            (r, e) -> {
              synchronized (this) {
                endLocked(pendingEnd != null ? pendingEnd : toEnd(r, e));
              }
            });
  }

  private static ScriptRequest toRequest(StartScript s) {
    ScriptRequest.Builder b =
        ScriptRequest.builder(ScriptSyntax.valueOf(s.syntax()), s.body()).executionId(s.ticket());
    if (s.arguments() != null) {
      s.arguments().forEach(b::argument);
    }
    if (s.environment() != null) {
      s.environment().forEach(b::env);
    }
    if (s.sensitiveValues() != null) {
      s.sensitiveValues().forEach(b::sensitiveValue);
    }
    if (s.files() != null) {
      for (Messages.ScriptFileEntry f : s.files()) {
        b.file(f.name(), Base64.getDecoder().decode(f.base64()));
      }
    }
    if (s.timeoutMillis() > 0) {
      b.timeout(Duration.ofMillis(s.timeoutMillis()));
    }
    return b.build();
  }

  private static End toEnd(ScriptResult r, Throwable e) {
    if (e != null || r == null) {
      return End.of(AgentOutcome.UNKNOWN_RESULT, "the script's result was lost: " + e);
    }
    return switch (r.outcome()) {
      case EXITED -> End.exited(r.exitCode().orElse(-1));
      case CANCELLED -> End.of(AgentOutcome.CANCELLED, r.message());
      case TIMED_OUT -> End.of(AgentOutcome.TIMED_OUT, r.message());
      case COULD_NOT_START -> End.of(AgentOutcome.COULD_NOT_START, r.message());
      case MUTEX_TIMEOUT -> End.of(AgentOutcome.MUTEX_TIMEOUT, r.message());
      case WORKER_LOST, UNKNOWN_RESULT -> End.of(AgentOutcome.UNKNOWN_RESULT, r.message());
    };
  }

  /** Ends the run with {@code end} unless it has ended: kills its process, or ends its wait. */
  void cancel(End end) {
    ScriptExecution exec;
    synchronized (this) {
      if (isComplete()) {
        return;
      }
      if (pendingEnd == null) {
        pendingEnd = end;
      }
      exec = execution;
      if (waiter != null) {
        waiter.interrupt(); // waiting for its mutex: ends now, not when the mutex frees
      }
    }
    if (exec != null) {
      exec.cancel(); // the whole process group
    }
  }

  synchronized void append(String source, String text) {
    if (isComplete()) {
      return;
    }
    LogEntry e =
        new LogEntry(log.size() + 1L, source, System.currentTimeMillis(), masker.mask(text));
    log.add(e);
    try {
      workspace.append(e);
    } catch (IOException ex) {
      LOG.warn("cannot append to the log of ticket {}: {}", ticket, ex.toString());
    }
    notifyAll();
  }

  void end(End end) {
    synchronized (this) {
      endLocked(end);
    }
  }

  private void endLocked(End end) {
    if (isComplete()) {
      return;
    }
    if (!end.message().isEmpty() && end.outcome() != AgentOutcome.EXITED) {
      append("DEBUG", end.message());
    }
    state =
        new State(
            ticket,
            "COMPLETE",
            end.outcome().name(),
            end.exitCode(),
            end.message(),
            state.startedMillis(),
            System.currentTimeMillis());
    try {
      workspace.writeState(state);
    } catch (IOException e) {
      LOG.warn("cannot write the state of ticket {}: {}", ticket, e.toString());
    }
    workspace.closeLog();
    notifyAll();
    List<Runnable> hooks = new ArrayList<>(onComplete);
    onComplete.clear();
    if (!hooks.isEmpty()) {
      try {
        threads.execute(() -> hooks.forEach(Runnable::run));
      } catch (RejectedExecutionException e) {
        hooks.forEach(Runnable::run);
      }
    }
  }

  synchronized ScriptStatus snapshot(long after) {
    int from = (int) Math.min(Math.max(after, 0), log.size());
    // Bound the reply (a backlog of many megabytes must not make a frame over the limit): count
    // each character as up to 6 JSON bytes (a control character becomes a six-character escape).
    // A reply cut short reports RUNNING, so the host asks again from where it stopped.
    int to = from;
    long budget = 0;
    while (to < log.size()) {
      long cost = log.get(to).text().length() * 6L + 128;
      if (to > from && budget + cost > MAX_REPLY_LOG_BYTES) {
        break;
      }
      budget += cost;
      to++;
    }
    List<LogEntry> lines = List.copyOf(log.subList(from, to));
    boolean truncated = to < log.size();
    boolean done = isComplete() && !truncated;
    return new ScriptStatus(
        ticket,
        truncated && isComplete() ? "RUNNING" : state.state(),
        done ? state.outcome() : null,
        done ? state.exitCode() : 0,
        lines,
        to,
        truncated || state.message() == null ? "" : state.message());
  }

  synchronized ScriptStatus awaitStatus(long after, long waitForMillis)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, waitForMillis));
    while (!isComplete() && log.size() <= after) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return snapshot(after);
  }

  synchronized boolean awaitComplete(long millis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!isComplete()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }
}
