package io.workerpools.dispatch;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Worker;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dispatcher's listeners: the builder's one, then those added later through {@link
 * StepDispatcher#addListener}, called in that order. One that throws is logged and does not stop
 * the others. Adding and removing are safe from any thread, also while events are delivered.
 */
final class ListenerList implements DispatchListener {
  private static final Logger LOG = LoggerFactory.getLogger(StepDispatcher.class);

  private final CopyOnWriteArrayList<DispatchListener> all = new CopyOnWriteArrayList<>();

  ListenerList(DispatchListener first) {
    all.add(Objects.requireNonNull(first, "listener"));
  }

  /** Adds a listener; closing the returned handle removes it (once; later closes do nothing). */
  AutoCloseable add(DispatchListener listener) {
    DispatchListener l = Objects.requireNonNull(listener, "listener");
    // A wrapper per registration, so that adding one listener twice and removing it once works.
    DispatchListener entry = new Entry(l);
    all.add(entry);
    return () -> all.remove(entry);
  }

  @Override
  public void onQueued(Step step) {
    each(l -> l.onQueued(step));
  }

  @Override
  public void onLeased(Step step, WorkerLease lease, Duration waited) {
    each(l -> l.onLeased(step, lease, waited));
  }

  @Override
  public void onStarted(Step step, WorkerLease lease) {
    each(l -> l.onStarted(step, lease));
  }

  @Override
  public void onWorkerLost(Step step, Worker worker, StepResult result) {
    each(l -> l.onWorkerLost(step, worker, result));
  }

  @Override
  public void onFinished(Step step, StepResult result) {
    each(l -> l.onFinished(step, result));
  }

  private void each(Consumer<DispatchListener> call) {
    for (DispatchListener l : all) {
      try {
        call.accept(l instanceof Entry e ? e.listener : l);
      } catch (RuntimeException e) {
        LOG.warn("dispatch listener threw; ignored", e);
      }
    }
  }

  private record Entry(DispatchListener listener) implements DispatchListener {
    @Override
    public boolean equals(Object o) {
      return this == o;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(this);
    }
  }
}
