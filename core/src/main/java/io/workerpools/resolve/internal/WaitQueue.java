package io.workerpools.resolve.internal;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Callers waiting for something, first come first served, without a thread each: the resolver's
 * waiters for a worker, and the dispatcher's invocations waiting for a turn of an action's max
 * parallelism.
 *
 * <p>Not thread-safe: the owner calls it under its own lock, and the callbacks given to {@link
 * #serve} run under that lock (they must only note things down).
 *
 * @param <T> a waiter
 */
public final class WaitQueue<T> {
  private final ArrayDeque<T> queue = new ArrayDeque<>();

  /** How waiters that cannot be served now are treated. */
  public enum Order {
    /** The first waiter that cannot be served stops the walk: nobody overtakes it. */
    STRICT,
    /**
     * A waiter that cannot be served now does not hold up those behind it (what it needs may
     * differ).
     */
    SKIP_UNSERVABLE
  }

  /** Queues a waiter at the back. */
  public void add(T waiter) {
    queue.addLast(waiter);
  }

  /** Takes a waiter out; returns whether it was waiting. */
  public boolean remove(T waiter) {
    return queue.remove(waiter);
  }

  /** Waiters queued now (including any that gave up and were not yet met by {@link #serve}). */
  public int size() {
    return queue.size();
  }

  public boolean isEmpty() {
    return queue.isEmpty();
  }

  /**
   * Serves waiters in arrival order.
   *
   * @param order whether an unservable waiter holds up those behind it
   * @param gone waiters that gave up: they leave the queue, handed to {@code dropped}
   * @param tryServe what a waiter gets now, or null if it cannot be served now
   * @param served called for each waiter served, which leaves the queue
   * @param dropped called for each waiter that gave up (may be a no-op)
   * @return how many were served
   */
  public <G> int serve(
      Order order,
      Predicate<? super T> gone,
      Function<? super T, G> tryServe,
      BiConsumer<? super T, ? super G> served,
      java.util.function.Consumer<? super T> dropped) {
    int n = 0;
    Iterator<T> it = queue.iterator();
    while (it.hasNext()) {
      T w = it.next();
      if (gone.test(w)) {
        it.remove();
        dropped.accept(w);
        continue;
      }
      G got = tryServe.apply(w);
      if (got != null) {
        it.remove();
        served.accept(w, got);
        n++;
      } else if (order == Order.STRICT) {
        break;
      }
    }
    return n;
  }

  /** Hands every waiter to {@code each} in arrival order, leaving the queue as it is. */
  public void forEach(java.util.function.Consumer<? super T> each) {
    queue.forEach(each);
  }

  /**
   * Takes the first waiter that has not given up, or null: a turn given strictly in arrival order.
   * Waiters that gave up, met on the way, leave the queue and are handed to {@code dropped}.
   */
  public T takeFirst(Predicate<? super T> gone, java.util.function.Consumer<? super T> dropped) {
    T w;
    while ((w = queue.pollFirst()) != null) {
      if (!gone.test(w)) {
        return w;
      }
      dropped.accept(w);
    }
    return null;
  }

  /** Empties the queue, handing every waiter to {@code each} in arrival order. */
  public void clear(java.util.function.Consumer<? super T> each) {
    T w;
    while ((w = queue.pollFirst()) != null) {
      each.accept(w);
    }
  }
}
