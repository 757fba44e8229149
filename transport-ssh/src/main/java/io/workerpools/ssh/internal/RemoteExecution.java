package io.workerpools.ssh.internal;

import com.google.common.util.concurrent.MoreExecutors;
import io.workerpools.TransportException;
import io.workerpools.transport.LineSplitter;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.ScriptResult.Outcome;
import io.workerpools.transport.SensitiveMasker;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One step on an SSH worker: waits for a channel slot, runs {@link Bootstrap#RUN_COMMAND} with the
 * request as stdin, streams output lines (masked, in order, off MINA's threads) and completes with
 * the exit status; on cancel or timeout kills the remote process group from a second channel and
 * waits for the step's channel to close.
 */
public final class RemoteExecution implements ScriptExecution, WorkerConnection.SlotUser {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteExecution.class);
  private static final int MAX_OPEN_ATTEMPTS = 50;

  private enum State {
    QUEUED,
    OPENING,
    RUNNING,
    DONE
  }

  private final TransportContext ctx;
  private final WorkerConnection conn;
  private final ScriptRequest request;
  private final LogSink sink;
  private final SensitiveMasker masker;

  /** In order, never concurrently, off MINA's threads, without a thread per execution. */
  private final Executor delivery;

  private final String token = UUID.randomUUID().toString().replace("-", "");
  private final long startNanos = System.nanoTime();
  private final CompletableFuture<ScriptResult> result = new CompletableFuture<>();
  private final Consumer<RemoteExecution> onDone;

  private final Object lock = new Object();
  private State state = State.QUEUED;
  private Outcome stopReason;
  private boolean inputSent;
  private ChannelExec channel;
  private ClientSession session;
  private ScheduledFuture<?> timeoutTask;
  private int openAttempts;
  private LineSplitter stdout;
  private LineSplitter stderr;
  private final boolean lean;
  private long pgid = -1;
  private boolean killSent;
  private boolean markerSeen;
  private boolean outMarkerSeen;

  public RemoteExecution(
      TransportContext ctx,
      WorkerConnection conn,
      ScriptRequest request,
      LogSink sink,
      Consumer<RemoteExecution> onDone) {
    this.ctx = ctx;
    this.conn = conn;
    this.request = request;
    this.sink = sink;
    this.masker = request.masker();
    this.delivery = MoreExecutors.newSequentialExecutor(ctx.executor());
    this.onDone = onDone;
    this.lean = Bootstrap.lean(request, ctx.alwaysDirectory());
  }

  /** Queues the step for a channel and arms its timeout. */
  public void start() {
    request
        .timeout()
        .ifPresent(
            t -> {
              ScheduledFuture<?> f =
                  ctx.scheduler()
                      .schedule(() -> stop(Outcome.TIMED_OUT), t.toNanos(), TimeUnit.NANOSECONDS);
              synchronized (lock) {
                timeoutTask = f;
              }
            });
    conn.acquire(false, this);
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
    stop(Outcome.CANCELLED);
  }

  @Override
  public void granted(ClientSession s) {
    Outcome stopped;
    synchronized (lock) {
      stopped = stopReason;
      if (stopped != null) {
        state = State.DONE;
      } else {
        state = State.OPENING;
        session = s;
      }
    }
    if (stopped != null) {
      conn.release();
      finish(stopped(stopped, false));
      return;
    }
    ChannelExec ch;
    try {
      ch = s.createExecChannel(Bootstrap.RUN_COMMAND);
    } catch (Exception e) {
      conn.release();
      retryOrFail(e);
      return;
    }
    // Unmasked: the bootstrap's markers are read raw; every line is masked before it leaves.
    LineSplitter out =
        LineSplitter.unmasked(LineSplitter.DEFAULT_MAX_LINE_BYTES, masker, this::stdoutLine);
    LineSplitter err =
        LineSplitter.unmasked(LineSplitter.DEFAULT_MAX_LINE_BYTES, masker, this::stderrLine);
    ch.setOut(out);
    ch.setErr(err);
    synchronized (lock) {
      channel = ch;
      stdout = out;
      stderr = err;
    }
    try {
      ch.open().addListener(of -> opened(ch, of.isOpened() ? null : of.getException()));
    } catch (Exception e) {
      conn.release();
      retryOrFail(e);
    }
  }

  @Override
  public void failed(TransportException error) {
    synchronized (lock) {
      if (state == State.DONE) {
        return;
      }
      state = State.DONE;
    }
    finish(
        ScriptResult.of(
            Outcome.COULD_NOT_START,
            elapsed(),
            "could not start on the worker: " + error.getMessage()));
  }

  private void retryOrFail(Throwable e) {
    boolean retry;
    Outcome stopped;
    synchronized (lock) {
      stopped = stopReason;
      retry = stopped == null && ++openAttempts < 3;
      state = retry ? State.QUEUED : State.DONE;
    }
    if (retry) {
      // The session died between steps: the next grant reconnects.
      LOG.debug("retrying a step after: {}", SessionOpener.describe(e));
      conn.acquire(false, this);
    } else if (stopped != null) {
      finish(stopped(stopped, false));
    } else {
      finish(
          ScriptResult.of(
              Outcome.COULD_NOT_START,
              elapsed(),
              "could not open a channel: " + SessionOpener.describe(e)));
    }
  }

  private void opened(ChannelExec ch, Throwable failure) {
    if (failure != null) {
      if (failure instanceof SshChannelOpenException) {
        boolean requeue;
        synchronized (lock) {
          requeue = stopReason == null && ++openAttempts < MAX_OPEN_ATTEMPTS;
          state = requeue ? State.QUEUED : state;
        }
        if (requeue) {
          conn.saturated(false, this);
          return;
        }
      }
      conn.release();
      retryOrFail(failure);
      return;
    }
    ch.addCloseFutureListener(f -> closed(ch));
    // Not from here: ChannelOutputStream may wait on this very I/O thread (seen: a 30 s stall).
    byte[] input = Bootstrap.runInput(token, request, lean);
    ctx.executor().execute(() -> sendInput(ch, input));
  }

  private void sendInput(ChannelExec ch, byte[] input) {
    boolean send;
    synchronized (lock) {
      send = stopReason == null;
      inputSent = send;
      if (send) {
        state = State.RUNNING;
      }
    }
    try (OutputStream in = ch.getInvertedIn()) {
      if (send) {
        in.write(input);
        in.flush();
      }
    } catch (Exception e) {
      LOG.debug("step {}: writing stdin failed: {}", request.executionId(), e.toString());
    }
  }

  /**
   * The bootstrap's first lines on stdout and stderr are markers (the stderr one names its process
   * group); they and whatever the login shell's startup files printed before them are not the
   * step's output and are not delivered (only logged at DEBUG), except the bootstrap's own error
   * messages.
   */
  private void stdoutLine(String line) {
    if (!outMarkerSeen) {
      if (Bootstrap.isOutMarker(token, line)) {
        outMarkerSeen = true;
      } else {
        LOG.debug("step {}: the login shell printed: {}", request.executionId(), masker.mask(line));
      }
      return;
    }
    deliver(LogLine.Source.STDOUT, line);
  }

  private void stderrLine(String line) {
    if (!markerSeen) {
      long g = Bootstrap.pgidFromMarker(token, line);
      if (g > 0) {
        markerSeen = true;
        boolean kill;
        synchronized (lock) {
          pgid = g;
          kill = stopReason != null && state != State.DONE && !killSent;
          killSent |= kill;
        }
        if (kill) {
          // Cancelled after the input went out but before the group was known.
          ctx.executor().execute(() -> kill(g));
        }
        return;
      }
      if (!Bootstrap.isBootstrapError(line)) {
        LOG.debug("step {}: the login shell printed: {}", request.executionId(), masker.mask(line));
        return;
      }
    }
    deliver(LogLine.Source.STDERR, line);
  }

  /** Cancels or times out: kill the remote process group if it may have started. */
  private void stop(Outcome reason) {
    boolean sent;
    long group;
    boolean dequeued = false;
    synchronized (lock) {
      if (state == State.DONE || stopReason != null) {
        return;
      }
      stopReason = reason;
      sent = inputSent;
      group = pgid;
      if (sent && group > 0) {
        killSent = true;
      }
      if (state == State.QUEUED && conn.cancelWaiting(this)) {
        state = State.DONE;
        dequeued = true;
      }
    }
    if (dequeued) {
      finish(stopped(reason, false));
      return;
    }
    if (!sent) {
      // Granted or opening: sendInput() sends only EOF, the bootstrap exits, the channel closes.
      return;
    }
    if (group <= 0) {
      // The bootstrap has not named its group yet: stderrLine() kills it when it does. Should it
      // never do so, the channel is closed by force after the grace period.
      ctx.scheduler().schedule(this::forceClose, ctx.killGrace().toNanos(), TimeUnit.NANOSECONDS);
      return;
    }
    kill(group);
  }

  private void kill(long group) {
    conn.runControl(Bootstrap.KILL_COMMAND, Bootstrap.killInput(group, token, request, lean))
        .whenComplete(
            (r, t) -> {
              if (t != null) {
                LOG.warn(
                    "step {}: could not kill the remote process group: {}",
                    request.executionId(),
                    t.getMessage());
              }
              ctx.scheduler()
                  .schedule(this::forceClose, ctx.killGrace().toNanos(), TimeUnit.NANOSECONDS);
            });
  }

  private void forceClose() {
    ChannelExec ch;
    synchronized (lock) {
      if (state == State.DONE) {
        return;
      }
      ch = channel;
    }
    if (ch != null) {
      LOG.warn("step {}: channel still open after the kill; closing it", request.executionId());
      ch.close(false);
    }
  }

  private void closed(ChannelExec ch) {
    conn.release();
    LineSplitter out;
    LineSplitter err;
    Outcome reason;
    synchronized (lock) {
      if (state == State.DONE) {
        return;
      }
      state = State.DONE;
      out = stdout;
      err = stderr;
      reason = stopReason;
    }
    out.finish();
    err.finish();
    Integer exit = ch.getExitStatus();
    ScriptResult r;
    if (reason != null) {
      r = stopped(reason, true);
    } else if (exit != null) {
      r = ScriptResult.exited(exit, elapsed());
    } else if (session != null && (!session.isOpen() || session.isClosing())) {
      r =
          ScriptResult.of(
              Outcome.WORKER_LOST,
              elapsed(),
              "the connection to "
                  + conn.endpoint().hostAndPort()
                  + " was lost while the step ran; its outcome is unknown");
    } else {
      String signal = ch.getExitSignal();
      r =
          ScriptResult.of(
              Outcome.UNKNOWN_RESULT,
              elapsed(),
              signal != null
                  ? "the remote shell was ended by signal " + signal
                  : "the channel closed without an exit status");
    }
    finish(r);
  }

  private ScriptResult stopped(Outcome reason, boolean killed) {
    String what =
        reason == Outcome.TIMED_OUT
            ? "ran longer than its timeout of "
                + request.timeout().map(Duration::toString).orElse("?")
            : "cancelled";
    return ScriptResult.of(
        reason,
        elapsed(),
        what + (killed ? "; the remote process group was killed" : " before it started"));
  }

  private void deliver(LogLine.Source source, String text) {
    Instant at = Instant.now();
    delivery.execute(guarded(() -> sink.onLine(new LogLine(at, source, masker.mask(text)))));
  }

  private void finish(ScriptResult r) {
    ScheduledFuture<?> t;
    synchronized (lock) {
      t = timeoutTask;
    }
    if (t != null) {
      t.cancel(false);
    }
    delivery.execute(
        guarded(
            () -> {
              result.complete(r);
              onDone.accept(this);
            }));
  }

  /** A failing sink or completion task is logged here (Guava's executor logs to JUL only). */
  private Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.warn("step {}: a log sink or completion task failed", request.executionId(), e);
      }
    };
  }

  private Duration elapsed() {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }
}
