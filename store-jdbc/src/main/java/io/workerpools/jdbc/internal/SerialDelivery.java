package io.workerpools.jdbc.internal;

import io.workerpools.store.StoreEvent;
import io.workerpools.store.StoreListener;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers events to listeners one at a time, in the order they were queued, without holding any
 * lock while a listener runs. Whichever thread queues an event also delivers the queue unless
 * another thread is already delivering it (then that thread delivers it). This is what lets the
 * store's poll thread and callers' threads both produce events without a lock-order deadlock
 * against a listener that takes its own lock (the resolver does, and calls the store while holding
 * it).
 */
public final class SerialDelivery {
  private static final Logger LOG = LoggerFactory.getLogger(SerialDelivery.class);
  private final Queue<StoreEvent> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean delivering = new AtomicBoolean();
  private final Supplier<List<StoreListener>> listeners;

  public SerialDelivery(Supplier<List<StoreListener>> listeners) {
    this.listeners = listeners;
  }

  /** Queues an event; call {@link #drain()} afterwards, outside any lock. */
  public void enqueue(StoreEvent e) {
    queue.add(e);
  }

  /** Delivers queued events unless another thread is delivering them already. */
  public void drain() {
    while (!queue.isEmpty() && delivering.compareAndSet(false, true)) {
      try {
        StoreEvent e;
        while ((e = queue.poll()) != null) {
          for (StoreListener l : listeners.get()) {
            try {
              l.onEvent(e);
            } catch (RuntimeException ex) {
              LOG.warn("store listener {} failed on {}", l, e, ex);
            }
          }
        }
      } finally {
        delivering.set(false);
      }
    }
  }
}
