package io.workerpools.resolve;

import io.workerpools.ClosedException;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.StepRequirements;
import io.workerpools.resolve.internal.WaitQueue;
import io.workerpools.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Callers waiting for a worker, served first come first served when a store event may have made
 * room (never by polling); each with its own deadline on the scheduler. Methods named {@code
 * ...Locked} are called with the resolver's lock held; leases granted under it are handed over
 * ({@link #complete}) after it is let go.
 */
final class StepWaiters {
  private final WaitQueue<Waiter> queue = new WaitQueue<>();
  private final ClaimLoop claims;
  private final EventInbox lock;
  private final ScheduledExecutorService scheduler;
  private final TimeSource time;
  private final AtomicBoolean pumpScheduled = new AtomicBoolean();
  private volatile boolean closed;

  StepWaiters(
      ClaimLoop claims, EventInbox lock, ScheduledExecutorService scheduler, TimeSource time) {
    this.claims = claims;
    this.lock = lock;
    this.scheduler = scheduler;
    this.time = time;
  }

  /** A lease granted to a waiter, to hand over once the lock is let go. */
  record Served(Waiter waiter, HeldLease lease) {}

  static final class Waiter {
    final StepRequirements requirements;
    final String stepId;
    final CompletableFuture<WorkerLease> future = new CompletableFuture<>();

    /** When it started waiting: wall clock (shown) and monotonic (for how long). */
    final Instant since;

    final long sinceNanos;

    volatile ScheduledFuture<?> timeout;

    Waiter(StepRequirements requirements, String stepId, Instant since, long sinceNanos) {
      this.requirements = requirements;
      this.stepId = stepId;
      this.since = since;
      this.sinceNanos = sinceNanos;
    }
  }

  /** The resolver's clock, which waiters' times are read from. */
  TimeSource time() {
    return time;
  }

  int sizeLocked() {
    return queue.size();
  }

  boolean isEmptyLocked() {
    return queue.isEmpty();
  }

  /** Hands each waiter still waiting to {@code each}, in queue order. */
  void forEachLocked(Consumer<Waiter> each) {
    queue.forEach(
        w -> {
          if (!w.future.isDone()) {
            each.accept(w);
          }
        });
  }

  /** Queues a caller until it is served or {@code maxWait} passes. */
  CompletableFuture<WorkerLease> enqueueLocked(
      StepRequirements requirements, String stepId, Duration maxWait) {
    Waiter w = new Waiter(requirements, stepId, time.now(), time.nanoTime());
    queue.add(w);
    w.timeout =
        scheduler.schedule(() -> expire(w), Math.max(1, maxWait.toNanos()), TimeUnit.NANOSECONDS);
    w.future.whenComplete(
        (lease, err) -> {
          if (err != null) {
            withdraw(w);
          }
        });
    return w.future;
  }

  /** Serves waiters in arrival order; a waiter that cannot be served now does not block others. */
  List<Served> serveLocked() {
    List<Served> served = new ArrayList<>(0);
    queue.serve(
        WaitQueue.Order.SKIP_UNSERVABLE,
        w -> w.future.isDone(),
        w -> claims.tryAcquire(w.requirements, w.stepId),
        (w, lease) -> served.add(new Served(w, lease)),
        w -> {});
    return served.isEmpty() ? null : served;
  }

  /** Hands leases to their waiters; a waiter that gave up meanwhile has its lease released. */
  static void complete(List<Served> served) {
    if (served == null) {
      return;
    }
    for (Served s : served) {
      ScheduledFuture<?> t = s.waiter.timeout;
      if (t != null) {
        t.cancel(false);
      }
      if (!s.waiter.future.complete(s.lease)) {
        s.lease.close();
      }
    }
  }

  /** Serves waiters soon on the scheduler (a store event may have made room). */
  void schedulePump() {
    if (closed || !pumpScheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      scheduler.execute(this::pump);
    } catch (RuntimeException rejected) {
      pumpScheduled.set(false);
    }
  }

  private void pump() {
    pumpScheduled.set(false);
    List<Served> served;
    lock.lock();
    try {
      served = serveLocked();
    } finally {
      lock.unlock();
    }
    complete(served);
  }

  private void withdraw(Waiter w) {
    lock.lock();
    try {
      queue.remove(w);
    } finally {
      lock.unlock();
    }
    ScheduledFuture<?> t = w.timeout;
    if (t != null) {
      t.cancel(false);
    }
  }

  private void expire(Waiter w) {
    Resolution.Blocked b;
    lock.lock();
    try {
      if (!queue.remove(w)) {
        return;
      }
      b = claims.blocked(w.requirements);
    } finally {
      lock.unlock();
    }
    w.future.completeExceptionally(NoEligibleWorkerException.of(b));
  }

  /** Fails every waiter: the resolver closed. */
  void close(String component) {
    closed = true;
    List<Waiter> failed = new ArrayList<>();
    lock.lock();
    try {
      queue.clear(failed::add);
    } finally {
      lock.unlock();
    }
    for (Waiter w : failed) {
      w.future.completeExceptionally(
          new ClosedException(component, "stopped waiting for a worker"));
    }
  }
}
