package io.workerpools.health;

import io.workerpools.WorkerPoolsException;
import io.workerpools.container.ContainerSteps;
import io.workerpools.health.internal.Transitions;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.time.TimeSource;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.TransportRegistry;
import io.workerpools.transport.WorkerTransport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs checks within the bound: moves due checks to the ready queue, starts as many as {@code
 * maxInFlight} allows through the worker's transport, ends each at the first of answer, failure and
 * timeout, applies {@link Transitions}, places the worker's next check ({@link Phasing}) and hands
 * the result to the {@link OrderedRecorder}. Never starts a check or calls a transport under lock.
 */
final class CheckRunner {
  private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);

  private final Roster roster;
  private final DueQueue queue;
  private final TransportRegistry transports;
  private final boolean probeContainerEngines;
  private final SafePolicies policies;
  private final HealthScheduler scheduler;
  private final TimeSource time;
  private final RandomGenerator random;
  private final OrderedRecorder recorder;
  private final int maxInFlight;
  private final AtomicBoolean pumpPending = new AtomicBoolean();
  // Guarded by the roster:
  private int inFlight;
  private int maxInFlightSeen;
  private long checksStarted;
  private long checksCompleted;
  private long checksTimedOut;
  private long wakeAt = Long.MAX_VALUE;
  private HealthScheduler.Cancellable wake;

  CheckRunner(
      Roster roster,
      DueQueue queue,
      TransportRegistry transports,
      SafePolicies policies,
      HealthScheduler scheduler,
      TimeSource time,
      RandomGenerator random,
      OrderedRecorder recorder,
      int maxInFlight,
      boolean probeContainerEngines) {
    this.probeContainerEngines = probeContainerEngines;
    this.roster = roster;
    this.queue = queue;
    this.transports = transports;
    this.policies = policies;
    this.scheduler = scheduler;
    this.time = time;
    this.random = random;
    this.recorder = recorder;
    this.maxInFlight = maxInFlight;
  }

  /** Counters. Under the roster's lock. */
  HealthMonitor.Stats stats() {
    return new HealthMonitor.Stats(
        inFlight,
        maxInFlightSeen,
        queue.readyCount(),
        checksStarted,
        checksCompleted,
        checksTimedOut);
  }

  /** Cancels the next wake-up. Under the roster's lock, on close. */
  void stop() {
    if (wake != null) {
      wake.cancel();
      wake = null;
    }
  }

  /** Has {@link #pump} run on the scheduler soon (at most one pending). */
  void requestPump() {
    if (pumpPending.compareAndSet(false, true)) {
      try {
        scheduler.schedule(() -> pump(false), Duration.ZERO);
      } catch (RuntimeException e) {
        pumpPending.set(false);
        synchronized (roster) {
          if (roster.isClosed()) {
            return;
          }
        }
        throw e;
      }
    }
  }

  /** Moves due checks to the ready queue, starts what the limit allows, sets the next wake-up. */
  private void pump(boolean isWake) {
    if (!isWake) {
      pumpPending.set(false);
    }
    List<CheckAttempt> toStart = new ArrayList<>();
    synchronized (roster) {
      if (roster.isClosed()) {
        return;
      }
      long now = time.nanoTime();
      if (isWake || wakeAt <= now) {
        // Also when woken early (a host's clock and executor may disagree): re-armed below.
        wakeAt = Long.MAX_VALUE;
        wake = null;
      }
      queue.promoteDue(now, st -> roster.isCurrent(st) && st.worker.enabled());
      while (inFlight < maxInFlight && queue.hasReady()) {
        WorkerState st = queue.pollReady();
        if (!roster.isCurrent(st)) {
          continue;
        }
        CompletableFuture<HealthReport> result =
            st.next != null ? st.next : new CompletableFuture<>();
        st.next = null;
        st.dueGen++;
        CheckAttempt a = new CheckAttempt(st, st.worker, ++checksStarted, result);
        st.attempt = a;
        inFlight++;
        maxInFlightSeen = Math.max(maxInFlightSeen, inFlight);
        toStart.add(a);
      }
      long head = queue.nextDueNanos();
      if (head != Long.MAX_VALUE && head < wakeAt) {
        if (wake != null) {
          wake.cancel();
        }
        wakeAt = head;
        wake = scheduler.schedule(() -> pump(true), Duration.ofNanos(Math.max(0, head - now)));
      }
    }
    for (CheckAttempt a : toStart) {
      try {
        begin(a);
      } catch (RuntimeException e) {
        // A bug in a transport or policy resolver must not leak the slot.
        LOG.warn("health check of worker {} could not start", a.worker.id(), e);
        finish(a, null, "the check could not start: " + e, false);
      }
    }
  }

  /** Starts one check through the transport. Never under lock. */
  private void begin(CheckAttempt a) {
    Worker w = a.worker;
    HealthPolicy policy = policies.policyFor(w);
    a.policy = policy;
    a.startNanos = time.nanoTime();
    try {
      a.timeout =
          scheduler.schedule(
              () -> finish(a, null, "no answer within " + policy.timeout(), true),
              policy.timeout());
    } catch (RuntimeException e) {
      // The scheduler is shut down (the monitor is closing): drop the check.
      finish(a, null, "could not schedule the check's timeout: " + e, false);
      return;
    }
    WorkerTransport t = transports.forEndpoint(w.endpoint()).orElse(null);
    if (t == null) {
      finish(
          a,
          null,
          "no transport supports endpoint kind '"
              + w.endpoint().kind()
              + "'; give the health monitor a transport for it",
          false);
      return;
    }
    CompletionStage<HealthReport> stage;
    try {
      HealthCheckRequest request = policy.request("health-" + w.id() + "-" + a.seq);
      stage =
          probeContainerEngines
              ? ContainerSteps.checkHealth(t, w, request)
              : t.checkHealth(w, request);
    } catch (RuntimeException e) {
      finish(a, null, "the transport refused the check: " + e, false);
      return;
    }
    if (stage == null) {
      finish(a, null, "the transport returned no result", false);
      return;
    }
    stage.whenComplete(
        (r, ex) -> {
          if (ex != null) {
            Throwable cause =
                ex instanceof CompletionException && ex.getCause() != null ? ex.getCause() : ex;
            finish(a, null, "the check failed: " + cause, false);
          } else if (r == null) {
            finish(a, null, "the transport returned no report", false);
          } else {
            finish(a, r, null, false);
          }
        });
  }

  /** The first of answer, failure and timeout ends the check; the others are ignored. */
  private void finish(CheckAttempt a, HealthReport report, String failure, boolean timedOut) {
    if (!a.done.compareAndSet(false, true)) {
      return;
    }
    HealthScheduler.Cancellable timeout = a.timeout;
    if (timeout != null && !timedOut) {
      timeout.cancel();
    }
    WorkerState st = a.state;
    boolean discarded;
    synchronized (roster) {
      inFlight--;
      checksCompleted++;
      if (timedOut) {
        checksTimedOut++;
      }
      if (st.attempt == a) {
        st.attempt = null;
      }
      discarded = roster.isClosed() || !roster.isCurrent(st);
      if (!discarded) {
        HealthPolicy policy = a.policy != null ? a.policy : policies.policyFor(a.worker);
        record(a, st, policy, report, failure);
        scheduleNext(st, policy);
      }
    }
    if (discarded) {
      a.result.completeExceptionally(
          new WorkerPoolsException(
              "worker '"
                  + st.id
                  + "' was removed (or the monitor closed) before its health check finished;"
                  + " nothing was recorded"));
    } else {
      recorder.requestDeliver();
    }
    requestPump();
  }

  /** Decides the worker's new state and queues the report to record. Under lock. */
  private void record(
      CheckAttempt a, WorkerState st, HealthPolicy policy, HealthReport report, String failure) {
    Instant now = time.now();
    Duration latency = Duration.ofNanos(time.nanoTime() - a.startNanos);
    HealthStatus answer =
        report != null && Transitions.isAnswer(report.status()) ? report.status() : null;
    String reason;
    if (answer != null) {
      reason = report.message();
    } else if (failure != null) {
      reason = failure;
    } else {
      reason = report.status() + (report.message().isEmpty() ? "" : ": " + report.message());
    }
    Transitions.State before = new Transitions.State(st.status, st.failures);
    Transitions.State after = Transitions.next(before, answer, policy.failuresBeforeUnavailable());
    st.failures = after.consecutiveFailures();
    String message = reason;
    if (answer == null && after.status() == before.status()) {
      message =
          "check failed ("
              + after.consecutiveFailures()
              + " of "
              + policy.failuresBeforeUnavailable()
              + " before UNAVAILABLE): "
              + reason;
    }
    HealthStatusChange change = null;
    if (after.status() != before.status()) {
      st.status = after.status();
      st.since = now;
      st.offlineAllowed = policy.mayBeOffline() && after.status() == HealthStatus.UNAVAILABLE;
      change =
          new HealthStatusChange(
              st.id, before.status(), after.status(), reason, now, st.offlineAllowed);
    }
    Map<String, String> details = new HashMap<>();
    if (report != null) {
      details.putAll(report.details());
    }
    details.put("statusSince", st.since.toString());
    if (st.failures > 0) {
      details.put("consecutiveFailures", Integer.toString(st.failures));
    }
    HealthReport recorded = new HealthReport(st.status, now, latency, message, details);
    st.last = recorded;
    recorder.add(new OrderedRecorder.Outgoing(st.id, recorded, change, a.result));
  }

  /** Places the worker's next check: at once if asked during this one, else by its interval. */
  private void scheduleNext(WorkerState st, HealthPolicy policy) {
    if (st.recheck) {
      st.recheck = false;
      queue.readyFirst(st);
    } else if (st.worker.enabled()) {
      long interval = policy.interval().toNanos();
      long delay;
      if (!st.phased) {
        // The first check came at once (new worker, cold start): place the next one at a random
        // point of the interval, so workers added together do not stay in lockstep.
        st.phased = true;
        delay = Phasing.afterFirstDelay(interval, random);
      } else {
        delay = Phasing.nextDelay(interval, policy.jitter(), random);
      }
      queue.at(st, time.nanoTime() + Math.max(1, delay));
    }
  }
}
