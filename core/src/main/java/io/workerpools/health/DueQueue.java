package io.workerpools.health;

import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.function.Predicate;

/**
 * The checks waiting to start: scheduled ones ordered by due time (monotonic nanoseconds), and the
 * ready ones (due, or asked for at once) in the order they will start. An entry is stale once its
 * worker's {@link WorkerState#dueGen} has moved on; stale entries are skipped, never searched for.
 *
 * <p>Not thread-safe: used under the {@link Roster}'s lock.
 */
final class DueQueue {
  private final PriorityQueue<Due> scheduled = new PriorityQueue<>();
  private final ArrayDeque<WorkerState> ready = new ArrayDeque<>();
  private long seq;

  /** Queues a check ahead of scheduled ones, or right after the running one. */
  void now(WorkerState st) {
    if (st.attempt != null) {
      st.recheck = true;
    } else if (!st.queued) {
      readyFirst(st);
    }
  }

  /** Puts the worker first in the ready queue. */
  void readyFirst(WorkerState st) {
    st.queued = true;
    st.dueGen++;
    ready.addFirst(st);
  }

  /** Schedules the worker's next check at a monotonic time. */
  void at(WorkerState st, long atNanos) {
    st.dueGen++;
    scheduled.add(new Due(atNanos, seq++, st, st.dueGen));
  }

  /** Moves every check due by {@code now} to the end of the ready queue, if still wanted. */
  void promoteDue(long now, Predicate<WorkerState> wanted) {
    while (!scheduled.isEmpty() && scheduled.peek().atNanos <= now) {
      Due d = scheduled.poll();
      WorkerState st = d.state;
      if (d.gen != st.dueGen || st.attempt != null || st.queued || !wanted.test(st)) {
        continue;
      }
      st.queued = true;
      ready.addLast(st);
    }
  }

  /** The next ready check, or null. */
  WorkerState pollReady() {
    WorkerState st = ready.pollFirst();
    if (st != null) {
      st.queued = false;
    }
    return st;
  }

  boolean hasReady() {
    return !ready.isEmpty();
  }

  int readyCount() {
    return ready.size();
  }

  /** When the earliest live scheduled check is due, or {@link Long#MAX_VALUE} if none is. */
  long nextDueNanos() {
    while (!scheduled.isEmpty() && scheduled.peek().gen != scheduled.peek().state.dueGen) {
      scheduled.poll(); // drop stale heads so we do not wake up for nothing
    }
    return scheduled.isEmpty() ? Long.MAX_VALUE : scheduled.peek().atNanos;
  }

  /** Forgets everything queued for a removed worker. */
  void remove(WorkerState st) {
    st.dueGen++;
    if (st.queued) {
      ready.remove(st);
      st.queued = false;
    }
    scheduled.removeIf(d -> d.state == st); // keep nothing of a removed worker
  }

  void clear() {
    ready.clear();
    scheduled.clear();
  }

  private record Due(long atNanos, long seq, WorkerState state, long gen)
      implements Comparable<Due> {
    @Override
    public int compareTo(Due o) {
      int c = Long.compare(atNanos, o.atNanos);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }
}
