package io.workerpools.tentacle.internal;

import io.workerpools.TransportException;
import io.workerpools.model.WorkerId;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.ScriptResult.Outcome;
import io.workerpools.transport.SensitiveMasker;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One script on an agent, seen from the host: start (idempotent, with the host-made ticket), then
 * status calls held open on the agent until there is news, then complete. The result always
 * completes, whatever the agent does:
 *
 * <ul>
 *   <li>a reply that fails its checks, or any exception while handling one, ends it {@code
 *       WORKER_LOST} (a protocol error);
 *   <li>the host enforces the request's timeout itself: at timeout + grace it cancels the remote
 *       script and reports {@code TIMED_OUT} (an agent answering RUNNING forever holds nothing); a
 *       script still {@code PENDING} (waiting for its mutex) past mutex timeout + grace ends {@code
 *       MUTEX_TIMEOUT};
 *   <li>{@link #cancel()} completes it {@code CANCELLED} within the cancel grace even if the agent
 *       never confirms;
 *   <li>status calls are paced: replies with no news (an agent that does not hold the call) are
 *       followed by growing pauses (50 ms doubling to 1 s), not by a busy loop.
 * </ul>
 *
 * <p>Threads: calls run on the transport's bounded executor, deadlines on its timer; a script holds
 * a thread only while one call is in flight.
 */
public final class RemoteScript implements ScriptExecution {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteScript.class);
  static final long MIN_PAUSE_MILLIS = 50;
  static final long MAX_PAUSE_MILLIS = 1000;

  private final WorkerId workerId;
  private final Target target;
  private final ScriptRequest request;
  private final LogSink sink;
  private final SensitiveMasker masker;
  private final Caller caller;
  private final CallSettings settings;
  private final Executor executor;
  private final ScheduledExecutorService timer;
  private final CompletableFuture<ScriptResult> result = new CompletableFuture<>();
  private final long startNanos = System.nanoTime();
  private volatile boolean cancelRequested;
  private volatile boolean started;
  private boolean cancelSent;
  private long nextSequence;
  private long pauseMillis;
  private boolean running;
  private ScheduledFuture<?> deadline;

  public RemoteScript(
      WorkerId workerId,
      Target target,
      ScriptRequest request,
      LogSink sink,
      Caller caller,
      Executor executor,
      ScheduledExecutorService timer) {
    this.workerId = workerId;
    this.target = target;
    this.request = request;
    this.sink = sink;
    this.masker = request.masker();
    this.caller = caller;
    this.settings = caller.settings();
    this.executor = executor;
    this.timer = timer;
  }

  /** Starts the script (asynchronously). */
  public RemoteScript start() {
    Duration mutexWait = request.mutexTimeout();
    if (!mutexWait.isZero() && !mutexWait.isNegative()) {
      arm(
          mutexWait.plus(settings.timeoutGrace()),
          Outcome.MUTEX_TIMEOUT,
          "the agent did not start the script within its mutex timeout of "
              + mutexWait.toMillis()
              + " ms (+ "
              + settings.timeoutGrace().toMillis()
              + " ms grace); the host cancelled it");
    }
    run(this::doStart);
    return this;
  }

  @Override
  public String executionId() {
    return request.executionId();
  }

  @Override
  public CompletionStage<ScriptResult> result() {
    return result;
  }

  /** The result, for the transport's own bookkeeping. */
  public CompletableFuture<ScriptResult> future() {
    return result;
  }

  @Override
  public void cancel() {
    if (result.isDone() || cancelRequested) {
      return;
    }
    cancelRequested = true;
    if (started) {
      run(this::sendCancel);
    }
    schedule(
        () ->
            finish(
                ScriptResult.of(
                    Outcome.CANCELLED,
                    elapsed(),
                    "cancelled; the agent did not confirm within "
                        + settings.cancelGrace().toMillis()
                        + " ms")),
        settings.cancelGrace());
  }

  /** How long since the start. */
  public Duration elapsed() {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  private void run(Runnable step) {
    try {
      executor.execute(() -> guarded(step));
    } catch (RejectedExecutionException e) {
      finish(ScriptResult.of(Outcome.WORKER_LOST, elapsed(), "the transport was closed"));
    }
  }

  private void schedule(Runnable step, Duration after) {
    try {
      timer.schedule(() -> guarded(step), after.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // the transport is closing: it completes every result itself
    }
  }

  /** Whatever goes wrong while handling the agent's answers ends the run, never strands it. */
  private void guarded(Runnable step) {
    try {
      step.run();
    } catch (RuntimeException e) {
      LOG.warn("script {} on worker {}: {}", request.executionId(), workerId, e.toString());
      finish(
          ScriptResult.of(
              Outcome.WORKER_LOST, elapsed(), "protocol error: the agent's answer failed: " + e));
      run(this::abandon);
    }
  }

  private synchronized void arm(Duration after, Outcome outcome, String message) {
    if (deadline != null) {
      deadline.cancel(false);
    }
    try {
      deadline =
          timer.schedule(
              () -> guarded(() -> deadlinePassed(outcome, message)),
              after.toMillis(),
              TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      deadline = null;
    }
  }

  private void deadlinePassed(Outcome outcome, String message) {
    if (result.isDone()) {
      return;
    }
    LOG.warn("script {} on worker {}: {}", request.executionId(), workerId, message);
    finish(ScriptResult.of(outcome, elapsed(), message));
    run(this::sendCancel);
  }

  private void doStart() {
    if (cancelRequested) {
      finish(ScriptResult.of(Outcome.CANCELLED, elapsed(), "cancelled before it started"));
      return;
    }
    Caller.Attempts at = new Caller.Attempts();
    Messages.ScriptStatus st;
    try {
      st =
          caller.call(
              workerId,
              target,
              "script.start",
              startMessage(),
              Messages.ScriptStatus.class,
              request.executionId(),
              settings.statusHold(),
              at);
    } catch (TransportException e) {
      // An authentication failure too: on a retry, after an earlier attempt that may have
      // arrived (a reset mid-handshake reads as a refusal), the script may be running.
      if (at.transferred) {
        // The start may have arrived: assume it started, and try to stop and clean it up.
        run(this::abandon);
        finish(
            ScriptResult.of(
                Outcome.WORKER_LOST,
                elapsed(),
                "lost the connection while starting the script: " + e.getMessage()));
      } else {
        finish(ScriptResult.of(Outcome.COULD_NOT_START, elapsed(), e.getMessage()));
      }
      return;
    }
    started = true;
    handle(st);
  }

  private Messages.StartScript startMessage() {
    List<Messages.ScriptFileEntry> files = new ArrayList<>();
    for (ScriptRequest.ScriptFile f : request.files()) {
      files.add(
          new Messages.ScriptFileEntry(f.name(), Base64.getEncoder().encodeToString(f.content())));
    }
    return new Messages.StartScript(
        request.executionId(),
        request.syntax().name(),
        request.body(),
        request.arguments(),
        request.environment(),
        new ArrayList<>(request.sensitiveValues()),
        files,
        request.timeout().map(Duration::toMillis).orElse(0L),
        request.isolation().name(),
        request.mutexName(),
        request.mutexTimeout().toMillis(),
        settings.statusHold().toMillis());
  }

  private void handle(Messages.ScriptStatus st) {
    if (result.isDone()) {
      return;
    }
    boolean news = false;
    for (Messages.LogEntry l : st.logs()) {
      if (l.seq() <= nextSequence) {
        continue;
      }
      news = true;
      nextSequence = l.seq();
      LogLine.Source src;
      try {
        src = LogLine.Source.valueOf(l.source());
      } catch (IllegalArgumentException e) {
        src = LogLine.Source.DEBUG;
      }
      try {
        sink.onLine(new LogLine(Instant.ofEpochMilli(l.timeMillis()), src, masker.mask(l.text())));
      } catch (RuntimeException e) {
        LOG.warn("a log sink threw: {}", e.toString());
      }
    }
    if ("COMPLETE".equals(st.state())) {
      complete(st);
      return;
    }
    if ("RUNNING".equals(st.state()) && !running) {
      running = true;
      news = true;
      request
          .timeout()
          .ifPresentOrElse(
              t ->
                  arm(
                      t.plus(settings.timeoutGrace()),
                      Outcome.TIMED_OUT,
                      "the agent did not end the script within its timeout of "
                          + t.toMillis()
                          + " ms (+ "
                          + settings.timeoutGrace().toMillis()
                          + " ms grace); the host cancelled it"),
              this::disarm);
    }
    if (cancelRequested && !cancelSent) {
      sendCancel();
    }
    if (news) {
      pauseMillis = 0;
      run(this::doStatus);
    } else {
      // No news: an honest agent held the call until the hold passed; one that answers at once
      // must not make the host spin. Pause, growing.
      pauseMillis =
          pauseMillis == 0 ? MIN_PAUSE_MILLIS : Math.min(MAX_PAUSE_MILLIS, pauseMillis * 2);
      schedule(() -> run(this::doStatus), Duration.ofMillis(pauseMillis));
    }
  }

  private synchronized void disarm() {
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
  }

  private void doStatus() {
    if (result.isDone()) {
      return;
    }
    Messages.ScriptStatus st;
    try {
      st =
          caller.call(
              workerId,
              target,
              "script.status",
              new Messages.StatusRequest(
                  request.executionId(), nextSequence, settings.statusHold().toMillis()),
              Messages.ScriptStatus.class,
              request.executionId(),
              settings.statusHold(),
              new Caller.Attempts());
    } catch (TransportException e) {
      finish(
          ScriptResult.of(
              Outcome.WORKER_LOST,
              elapsed(),
              "lost contact with the agent while the script ran: " + e.getMessage()));
      if (!e.retryable()) {
        run(this::abandon); // a protocol error: the agent may still run it
      }
      return;
    }
    handle(st);
  }

  private void sendCancel() {
    synchronized (this) {
      if (cancelSent) {
        return;
      }
      cancelSent = true;
    }
    try {
      caller.call(
          workerId,
          target,
          "script.cancel",
          new Messages.TicketRequest(request.executionId()),
          Messages.ScriptStatus.class,
          request.executionId(),
          Duration.ofSeconds(2),
          new Caller.Attempts());
    } catch (TransportException e) {
      LOG.warn(
          "cannot cancel {} on worker {}: {}", request.executionId(), workerId, e.getMessage());
    }
  }

  private void abandon() {
    try {
      sendCancel();
      sendComplete();
    } catch (TransportException e) {
      LOG.warn(
          "cannot clean up {} on worker {}: {}", request.executionId(), workerId, e.getMessage());
    }
  }

  /** Tells the agent the host is done with this ticket, so it may delete the workspace. */
  private void sendComplete() {
    caller.call(
        workerId,
        target,
        "script.complete",
        new Messages.TicketRequest(request.executionId()),
        Messages.ScriptStatus.class,
        null,
        Duration.ZERO,
        new Caller.Attempts());
  }

  private void complete(Messages.ScriptStatus st) {
    // The result is known: hand it over first, then tell the agent to delete the workspace (off
    // the caller's critical path; if that call is lost, the agent's retention cleans up).
    finish(toResult(st));
    if (!request.keepWorkingDirectory()) {
      run(
          () -> {
            try {
              sendComplete();
            } catch (TransportException e) {
              LOG.debug("cannot complete {}: {}", request.executionId(), e.getMessage());
            }
          });
    }
  }

  private ScriptResult toResult(Messages.ScriptStatus st) {
    String o = st.outcome() == null ? "UNKNOWN_RESULT" : st.outcome();
    String message = st.message() == null ? "" : st.message();
    switch (o) {
      case "EXITED":
        return ScriptResult.exited(st.exitCode(), elapsed());
      case "UNKNOWN_TICKET":
        return ScriptResult.of(Outcome.WORKER_LOST, elapsed(), message);
      default:
        try {
          return ScriptResult.of(Outcome.valueOf(o), elapsed(), message);
        } catch (IllegalArgumentException e) {
          return ScriptResult.of(
              Outcome.UNKNOWN_RESULT, elapsed(), "the agent reported outcome '" + o + "'");
        }
    }
  }

  /** Completes the result (the first completion wins) and drops the deadline. */
  public void finish(ScriptResult r) {
    if (result.complete(r)) {
      disarm();
    }
  }
}
