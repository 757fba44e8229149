package io.workerpools.local;

import io.workerpools.local.internal.ScriptEvents;
import io.workerpools.transport.LineSplitter;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One script run by {@link LocalScriptRunner}: what its starter reports (its pid, its output, its
 * end), how it is killed (cancel, timeout), and how it ends: once, after its exit and the end of
 * both streams, so that the result always follows the last line.
 */
final class LocalExecution implements ScriptExecution, ScriptEvents {
  private static final Logger LOG = LoggerFactory.getLogger(LocalExecution.class);

  private final LocalScriptRunner runner;
  private final ScriptRequest request;
  private final LogSink sink;
  private final String where;
  private final Runnable onEnd;
  private final CompletableFuture<ScriptResult> result = new CompletableFuture<>();
  private final long startNanos;
  private final Object sinkLock = new Object();
  private final LineSplitter splitOut;
  private final LineSplitter splitErr;

  /** Set once, by the first of cancel / timeout / loss that happens while the process runs. */
  private final AtomicReference<ScriptResult.Outcome> killedFor = new AtomicReference<>();

  private final AtomicBoolean killIssued = new AtomicBoolean();
  private final AtomicReference<ScriptResult.Outcome> pendingKill = new AtomicReference<>();
  private final AtomicInteger openPipes = new AtomicInteger(2);
  private final AtomicBoolean completed = new AtomicBoolean();
  private final AtomicBoolean completing = new AtomicBoolean();
  private volatile long pid = -1;
  private volatile boolean ownGroup;
  private volatile Integer exitCode;
  private volatile ScheduledFuture<?> timeoutTask;

  LocalExecution(
      LocalScriptRunner runner, ScriptRequest request, LogSink sink, String where, Runnable onEnd) {
    this.runner = runner;
    this.request = request;
    this.sink = sink;
    this.where = where;
    this.onEnd = onEnd;
    this.startNanos = runner.time().nanoTime();
    this.splitOut = splitter(LogLine.Source.STDOUT);
    this.splitErr = splitter(LogLine.Source.STDERR);
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
    kill(ScriptResult.Outcome.CANCELLED);
  }

  /** Ends the execution before any process started. */
  void fail(String message) {
    complete(ScriptResult.of(ScriptResult.Outcome.COULD_NOT_START, elapsed(), message));
  }

  void scheduleTimeout() {
    if (request.timeout().isEmpty()) {
      return;
    }
    try {
      timeoutTask =
          runner
              .scheduler()
              .schedule(
                  () -> kill(ScriptResult.Outcome.TIMED_OUT),
                  request.timeout().get().toNanos(),
                  TimeUnit.NANOSECONDS);
      if (completed.get()) {
        timeoutTask.cancel(false);
      }
    } catch (RejectedExecutionException e) {
      kill(ScriptResult.Outcome.CANCELLED); // the runner is closing: it cancels what runs
    }
  }

  /** Lines of one stream, long ones cut but never through a sensitive value, masked. */
  private LineSplitter splitter(LogLine.Source source) {
    return LineSplitter.masking(
        runner.maxLineBytes(), request.masker(), masked -> deliver(source, masked));
  }

  private void deliver(LogLine.Source source, String masked) {
    synchronized (sinkLock) {
      try {
        sink.onLine(new LogLine(runner.time().now(), source, masked));
      } catch (RuntimeException e) {
        LOG.warn("log sink of {} threw; line dropped", executionId(), e);
      }
    }
  }

  // ---- what the starter reports ----

  @Override
  public void onStarted(long processId, boolean leadsGroup) {
    this.ownGroup = leadsGroup;
    this.pid = processId;
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
    fail(why + " on " + where);
  }

  @Override
  public void onLost(String why, long processId) {
    if (processId > 0) {
      pid = processId;
      ownGroup = true;
      killedFor.compareAndSet(null, ScriptResult.Outcome.WORKER_LOST);
      killSoon();
    }
    complete(
        ScriptResult.of(
            ScriptResult.Outcome.WORKER_LOST,
            elapsed(),
            why + "; it was not started again (" + where + ")"));
  }

  // ---- killing ----

  private void kill(ScriptResult.Outcome why) {
    if (pid < 0) {
      pendingKill.compareAndSet(null, why); // onStarted kills it once its pid is known
      if (pid < 0) {
        return;
      }
    }
    if (exitCode == null) {
      killedFor.compareAndSet(null, why);
    } else if (runner.killLeftoverProcesses()) {
      return; // it has exited, and its group was killed then
    }
    if (killIssued.compareAndSet(false, true)) {
      killSoon();
    }
  }

  private void killSoon() {
    try {
      runner.io().execute(this::killNow); // it may wait: not on the caller's thread
    } catch (RejectedExecutionException e) {
      killNow();
    }
  }

  private void killNow() {
    long p = pid;
    if (p <= 0) {
      return;
    }
    Optional<ProcessHandle> h = ProcessHandle.of(p);
    if (h.isPresent()) {
      runner.processTree().killAll(h.get(), ownGroup);
    } else if (ownGroup) {
      runner.processTree().killGroup(p); // the leader is gone; its group may not be
    }
  }

  // ---- the end ----

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
    try {
      onEnd.run();
    } catch (RuntimeException e) {
      LOG.warn("cleaning up after {} failed", executionId(), e);
    }
    runner.finished(this);
    result.complete(r);
  }

  private Duration elapsed() {
    return Duration.ofNanos(runner.time().nanoTime() - startNanos);
  }

  @Override
  public String toString() {
    return "LocalExecution[" + executionId() + " on " + where + "]";
  }
}
