package io.workerpools.health;

import io.workerpools.WorkerPoolsException;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records decided results in the store and tells listeners, in the order the results were decided,
 * one at a time, on the scheduler (not on the thread that finished the check: that is often a
 * transport's I/O thread, which must not wait on a database or a listener). Then completes each
 * result's on-demand stage, so a caller sees the store updated. After close, fails them instead.
 *
 * <p>Why not Guava's {@code MoreExecutors.newSequentialExecutor} over the scheduler: its queue
 * lives inside the executor, so results queued when the monitor closes (and the scheduler it owns
 * is shut down) would never run, and their stages never complete. Here the queue is ours: {@link
 * #deliver()} on close drains it, and one flag keeps a single thread delivering at a time.
 */
final class OrderedRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);

  /** A decided result waiting to be recorded and published, in decision order. */
  record Outgoing(
      WorkerId id,
      HealthReport report,
      HealthStatusChange change,
      CompletableFuture<HealthReport> result) {}

  private final InfrastructureStore store;
  private final HealthScheduler scheduler;
  private final List<HealthListener> listeners;
  private final Roster roster;
  private final ConcurrentLinkedQueue<Outgoing> outbox = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean delivering = new AtomicBoolean();
  private final AtomicBoolean deliverPending = new AtomicBoolean();

  OrderedRecorder(
      InfrastructureStore store,
      HealthScheduler scheduler,
      List<HealthListener> listeners,
      Roster roster) {
    this.store = store;
    this.scheduler = scheduler;
    this.listeners = listeners;
    this.roster = roster;
  }

  /** Queues a result. Call under the roster's lock, so that queue order is decision order. */
  void add(Outgoing o) {
    outbox.add(o);
  }

  /** Has the queued results delivered on the scheduler soon. */
  void requestDeliver() {
    if (deliverPending.compareAndSet(false, true)) {
      try {
        scheduler.schedule(
            () -> {
              deliverPending.set(false);
              deliver();
            },
            Duration.ZERO);
      } catch (RuntimeException e) {
        deliverPending.set(false); // closing: close() flushes what is left
        deliver();
      }
    }
  }

  /**
   * Records and publishes queued results in order, on one thread at a time, then completes their
   * on-demand stages. After close, fails them instead.
   */
  void deliver() {
    while (!outbox.isEmpty()) {
      if (!delivering.compareAndSet(false, true)) {
        return; // the thread delivering now will also run ours
      }
      try {
        Outgoing o;
        while ((o = outbox.poll()) != null) {
          boolean isClosed;
          synchronized (roster) {
            isClosed = roster.isClosed();
          }
          if (isClosed) {
            o.result.completeExceptionally(
                new WorkerPoolsException(
                    "the health monitor was closed before the check of worker '"
                        + o.id
                        + "' was recorded"));
          } else {
            publish(o.id, o.report, o.change);
            o.result.complete(o.report);
          }
        }
      } finally {
        delivering.set(false);
      }
    }
  }

  /** Records and tells listeners. Runs from {@link #deliver}, one at a time. */
  private void publish(WorkerId id, HealthReport report, HealthStatusChange change) {
    try {
      store.recordHealth(id, report);
    } catch (RuntimeException e) {
      LOG.warn("could not record the health of worker {} in the store", id, e);
    }
    if (change != null) {
      logChange(id, change);
      for (HealthListener l : listeners) {
        try {
          l.onStatusChanged(change);
        } catch (RuntimeException e) {
          LOG.warn("health listener {} failed on {}", l, change, e);
        }
      }
    }
    for (HealthListener l : listeners) {
      try {
        l.onCheckCompleted(id, report);
      } catch (RuntimeException e) {
        LOG.warn("health listener {} failed on a check of {}", l, id, e);
      }
    }
  }

  private static void logChange(WorkerId id, HealthStatusChange change) {
    if (change.current().isEligible() && change.previous() == HealthStatus.UNKNOWN) {
      LOG.debug("worker {} is now {} (first check)", id, change.current());
    } else if (change.current().isEligible()) {
      LOG.info("worker {} is now {} (was {})", id, change.current(), change.previous());
    } else if (change.offlineAllowed()) {
      LOG.info("worker {} is offline, which its policy allows: {}", id, change.reason());
    } else {
      LOG.warn(
          "worker {} is now {} (was {}): {}",
          id,
          change.current(),
          change.previous(),
          change.reason());
    }
  }
}
