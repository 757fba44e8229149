package io.workerpools.health;

import io.workerpools.WorkerPoolsException;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.StoreEvent;
import io.workerpools.time.TimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;

/**
 * The workers the monitor knows, kept in step with the store: added, updated (a re-enabled worker
 * or a new endpoint is checked at once) and forgotten as the store's events say, and brought in
 * line with the store's contents on a resync.
 *
 * <p>This object's monitor is the lock of the whole health monitor: it guards every {@link
 * WorkerState}, the {@link DueQueue}, the {@link CheckRunner}'s counters and the closed flag.
 */
final class Roster {
  private final InfrastructureStore store;
  private final TimeSource time;
  private final RandomGenerator random;
  private final SafePolicies policies;
  // Guarded by this:
  private final DueQueue queue;
  private final Map<WorkerId, WorkerState> states = new HashMap<>();
  private boolean closed;

  Roster(
      InfrastructureStore store,
      TimeSource time,
      RandomGenerator random,
      SafePolicies policies,
      DueQueue queue) {
    this.store = store;
    this.time = time;
    this.random = random;
    this.policies = policies;
    this.queue = queue;
  }

  /** Under lock. */
  WorkerState get(WorkerId id) {
    return states.get(id);
  }

  /** Under lock. */
  Collection<WorkerState> all() {
    return states.values();
  }

  /** Under lock. */
  int size() {
    return states.size();
  }

  /** Whether this state is the worker's current one (not forgotten, not replaced). Under lock. */
  boolean isCurrent(WorkerState st) {
    return states.get(st.id) == st;
  }

  /** Under lock. */
  boolean isClosed() {
    return closed;
  }

  /** Marks the roster closed and forgets every worker. Under lock. Returns the pending results. */
  List<CompletableFuture<HealthReport>> close() {
    closed = true;
    List<CompletableFuture<HealthReport>> pending = new ArrayList<>();
    for (WorkerState st : states.values()) {
      st.collectPending(pending);
    }
    states.clear();
    queue.clear();
    return pending;
  }

  /**
   * Applies a store event. Called under the store's lock (in-memory store): only touches our own
   * state, starts nothing.
   *
   * @return whether checks were queued (the caller pumps)
   */
  boolean onStoreEvent(StoreEvent e) {
    if (e instanceof StoreEvent.WorkerPut put) {
      synchronized (this) {
        return !closed && upsert(put.worker(), null);
      }
    } else if (e instanceof StoreEvent.WorkerRemoved removed) {
      forget(removed.worker().id());
    } else if (e instanceof StoreEvent.Resync) {
      reconcile();
      return true;
    }
    return false;
  }

  /** Brings our workers in line with the store: adds, updates, forgets. */
  void reconcile() {
    Infrastructure infra = store.infrastructure();
    Map<WorkerId, HealthReport> health = store.health();
    List<WorkerId> gone = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      for (Worker w : infra.workers().values()) {
        upsert(w, health.get(w.id()));
      }
      for (WorkerId id : states.keySet()) {
        if (!infra.workers().containsKey(id)) {
          gone.add(id);
        }
      }
    }
    gone.forEach(this::forget);
  }

  /** Adds or updates a worker. Under lock. Returns whether a check was queued. */
  private boolean upsert(Worker w, HealthReport known) {
    WorkerState st = states.get(w.id());
    if (st == null) {
      st = new WorkerState(w, time.now());
      states.put(w.id(), st);
      if (!w.enabled()) {
        return false;
      }
      if (known != null && known.status() != HealthStatus.UNKNOWN) {
        // Seen before (another run of this monitor, or another node): adopt it and spread the first
        // check over what is left of one interval, so a restart does not check everyone at once.
        st.status = known.status();
        st.since = known.checkedAt();
        st.last = known;
        long interval = policies.policyFor(w).interval().toNanos();
        long age = Math.max(0, Duration.between(known.checkedAt(), time.now()).toNanos());
        if (age < interval) {
          st.phased = true;
          queue.at(st, time.nanoTime() + Phasing.adoptedDelay(interval, age, random));
          return false;
        }
      }
      queue.now(st);
      return true;
    }
    Worker old = st.worker;
    st.worker = w;
    if (w.enabled() && (!old.enabled() || !old.endpoint().equals(w.endpoint()))) {
      queue.now(st);
      return true;
    }
    return false;
  }

  /** Forgets a removed worker: nothing of it stays queued, its pending results fail. */
  private void forget(WorkerId id) {
    List<CompletableFuture<HealthReport>> pending = new ArrayList<>();
    synchronized (this) {
      WorkerState st = states.remove(id);
      if (st == null) {
        return;
      }
      queue.remove(st);
      st.collectPending(pending);
    }
    WorkerPoolsException ex =
        new WorkerPoolsException(
            "worker '"
                + id
                + "' was removed before its health check finished; nothing was recorded");
    pending.forEach(f -> f.completeExceptionally(ex));
  }
}
