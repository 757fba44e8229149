package io.workerpools.resolve;

import io.workerpools.store.StoreEvent;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The resolver's lock, and the inbox of store events that arrived while it was held. Store events
 * are never blocked on: a listener call that finds the lock busy leaves its event here, and the
 * thread holding the lock applies it before it lets go. So the store's lock and the resolver's lock
 * are never waited for in opposite orders, and the view never misses an event.
 */
final class EventInbox {
  private final ReentrantLock lock = new ReentrantLock();
  private final ConcurrentLinkedQueue<StoreEvent> inbox = new ConcurrentLinkedQueue<>();

  /** Applies one event to what the lock guards; called with the lock held. */
  private final Consumer<StoreEvent> apply;

  EventInbox(Consumer<StoreEvent> apply) {
    this.apply = apply;
  }

  /** Takes the lock and applies what arrived meanwhile. */
  void lock() {
    lock.lock();
    drain();
  }

  /** Lets go of the lock, then applies any event that arrived meanwhile and found the lock busy. */
  void unlock() {
    for (; ; ) {
      lock.unlock();
      if (inbox.isEmpty() || !lock.tryLock()) {
        return;
      }
      drain();
    }
  }

  /** Applies the events waiting in the inbox. Call with the lock held. */
  void drain() {
    StoreEvent e;
    while ((e = inbox.poll()) != null) {
      apply.accept(e);
    }
  }

  /** Forgets events that arrived before a fresh read of the store. Call with the lock held. */
  void discard() {
    inbox.clear();
  }

  /** The store listener: applies the event now if the lock is free, else leaves it here. */
  void offer(StoreEvent e) {
    if (lock.tryLock()) {
      try {
        drain();
        apply.accept(e);
      } finally {
        unlock();
      }
    } else {
      inbox.add(e);
      // The holder may have let go between our tryLock and the add: try once more.
      if (lock.tryLock()) {
        try {
          drain();
        } finally {
          unlock();
        }
      }
    }
  }
}
