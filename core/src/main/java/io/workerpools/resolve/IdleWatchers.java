package io.workerpools.resolve;

import io.workerpools.ClosedException;
import io.workerpools.model.WorkerId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.ToIntFunction;

/**
 * Draining's other half: stages that complete when a worker holds no lease. Completed on the
 * resolver's scheduler, never under its lock. Methods named {@code ...Locked} are called with the
 * resolver's lock held.
 */
final class IdleWatchers {
  private final Map<WorkerId, List<CompletableFuture<Void>>> watchers = new HashMap<>();
  private final Executor executor;

  IdleWatchers(Executor executor) {
    this.executor = executor;
  }

  /** A stage that completes when {@code worker} holds no lease ({@code leases} now). */
  CompletableFuture<Void> awaitLocked(WorkerId worker, int leases) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    if (leases == 0) {
      f.complete(null);
    } else {
      watchers.computeIfAbsent(worker, k -> new ArrayList<>()).add(f);
    }
    return f;
  }

  boolean isEmptyLocked() {
    return watchers.isEmpty();
  }

  /** The worker's lease count dropped to zero. */
  void idleLocked(WorkerId worker) {
    notify(watchers.remove(worker));
  }

  /** After a fresh read of the store: completes the watchers of every worker now idle. */
  void resyncedLocked(ToIntFunction<WorkerId> leaseCount) {
    for (Iterator<Map.Entry<WorkerId, List<CompletableFuture<Void>>>> it =
            watchers.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<WorkerId, List<CompletableFuture<Void>>> en = it.next();
      if (leaseCount.applyAsInt(en.getKey()) == 0) {
        it.remove();
        notify(en.getValue());
      }
    }
  }

  /** Takes every watcher out, to fail them once the lock is let go. */
  List<CompletableFuture<Void>> removeAllLocked() {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    watchers.values().forEach(all::addAll);
    watchers.clear();
    return all;
  }

  static void fail(List<CompletableFuture<Void>> all, String component) {
    for (CompletableFuture<Void> f : all) {
      f.completeExceptionally(
          new ClosedException(component, "closed before the worker became idle"));
    }
  }

  private void notify(List<CompletableFuture<Void>> list) {
    if (list == null) {
      return;
    }
    Runnable r =
        () -> {
          for (CompletableFuture<Void> f : list) {
            f.complete(null);
          }
        };
    try {
      executor.execute(r);
    } catch (RuntimeException rejected) {
      // Closed: run here rather than leave someone waiting forever.
      r.run();
    }
  }
}
