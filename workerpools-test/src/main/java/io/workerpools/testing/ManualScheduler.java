package io.workerpools.testing;

import io.workerpools.health.HealthScheduler;
import io.workerpools.time.ManualTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link HealthScheduler} driven by a {@link ManualTimeSource}: tasks run only when the test
 * calls {@link #runDue()} or {@link #advance}, on the test's thread, in order of due time.
 */
public final class ManualScheduler implements HealthScheduler {
  private final ManualTimeSource clock;
  private final List<Task> tasks = new ArrayList<>();
  private long seq;

  public ManualScheduler(ManualTimeSource clock) {
    this.clock = clock;
  }

  private static final class Task {
    final long due;
    final long seq;
    final Runnable r;
    boolean cancelled;

    Task(long due, long seq, Runnable r) {
      this.due = due;
      this.seq = seq;
      this.r = r;
    }
  }

  @Override
  public synchronized Cancellable schedule(Runnable task, Duration delay) {
    Task t = new Task(clock.nanoTime() + Math.max(0, delay.toNanos()), seq++, task);
    tasks.add(t);
    return () -> {
      synchronized (ManualScheduler.this) {
        t.cancelled = true;
        tasks.remove(t);
      }
    };
  }

  private synchronized Task nextDue(long until) {
    Task best = null;
    for (Task t : tasks) {
      if (t.due <= until
          && (best == null || t.due < best.due || (t.due == best.due && t.seq < best.seq))) {
        best = t;
      }
    }
    if (best != null) {
      tasks.remove(best);
    }
    return best;
  }

  /** Runs every task due now, including tasks those tasks schedule for now. */
  public void runDue() {
    advance(Duration.ZERO);
  }

  /** Moves time forward to each due task in turn, running it, then to {@code now + d}. */
  public void advance(Duration d) {
    long target = clock.nanoTime() + d.toNanos();
    int guard = 0;
    Task t;
    while ((t = nextDue(target)) != null) {
      if (++guard > 1_000_000) {
        throw new AssertionError("runaway scheduling: over a million tasks in one advance");
      }
      if (t.due > clock.nanoTime()) {
        clock.advance(Duration.ofNanos(t.due - clock.nanoTime()));
      }
      t.r.run();
    }
    if (target > clock.nanoTime()) {
      clock.advance(Duration.ofNanos(target - clock.nanoTime()));
    }
  }

  public synchronized int pending() {
    return tasks.size();
  }
}
