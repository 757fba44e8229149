package io.workerpools.dispatch;

import io.workerpools.resolve.internal.WaitQueue;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Max parallelism: per action, how many invocations are in (from leasing to the end) and who waits
 * for a turn, first come first served, without holding a thread (in the resolver's {@link
 * WaitQueue}, strictly in arrival order). One gate per action that has someone in or waiting; a
 * gate nobody uses is dropped.
 *
 * <p>Thread-safe (one lock). Callbacks given to these methods run under that lock and must only
 * note things down (or call a listener that must not block, as {@link DispatchListener} promises).
 *
 * @param <T> a waiting invocation
 */
final class ActionGates<T> {
  private final Object lock = new Object();
  // Guarded by lock.
  private final Map<String, Gate<T>> gates = new HashMap<>();

  /**
   * Lets {@code waiter} in if the action has fewer than {@code max} in and nobody waits ahead of
   * it; otherwise queues it and runs {@code onQueued} under the lock (so that it comes before the
   * waiter is let in and ends).
   *
   * @return whether it was let in
   */
  boolean enter(String action, int max, T waiter, Runnable onQueued) {
    synchronized (lock) {
      Gate<T> gate = gates.computeIfAbsent(action, k -> new Gate<>());
      if (gate.inFlight < max && gate.queue.isEmpty()) {
        gate.inFlight++;
        return true;
      }
      gate.queue.add(waiter);
      onQueued.run();
      return false;
    }
  }

  /**
   * An invocation that was let in ended: gives its turn to the first waiter that is not cancelled.
   * Cancelled waiters met on the way leave the queue without a turn and are handed to {@code
   * droppedCancelled} (under the lock: it must only schedule their ending).
   *
   * @return the waiter let in, or null
   */
  T leave(String action, Predicate<T> cancelled, Consumer<T> droppedCancelled) {
    synchronized (lock) {
      Gate<T> gate = gates.get(action);
      gate.inFlight--;
      T next = gate.queue.takeFirst(cancelled, droppedCancelled);
      if (next != null) {
        gate.inFlight++;
      }
      if (gate.inFlight == 0 && gate.queue.isEmpty()) {
        gates.remove(action);
      }
      return next;
    }
  }

  /** Takes a waiter out of the queue. Returns whether it was waiting. */
  boolean withdraw(String action, T waiter) {
    synchronized (lock) {
      Gate<T> gate = gates.get(action);
      return gate != null && gate.queue.remove(waiter);
    }
  }

  /**
   * How many invocations wait for a turn, over all actions (cancelled ones not yet dropped too).
   */
  int queued() {
    synchronized (lock) {
      int n = 0;
      for (Gate<T> g : gates.values()) {
        n += g.queue.size();
      }
      return n;
    }
  }

  /** How many invocations of the action are in now. */
  int inFlight(String action) {
    synchronized (lock) {
      Gate<T> g = gates.get(action);
      return g == null ? 0 : g.inFlight;
    }
  }

  private static final class Gate<T> {
    int inFlight;
    final WaitQueue<T> queue = new WaitQueue<>();
  }
}
