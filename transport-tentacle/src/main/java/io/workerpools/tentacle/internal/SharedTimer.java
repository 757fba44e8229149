package io.workerpools.tentacle.internal;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One daemon timer thread for deadlines of callers that bring no scheduler of their own; and the
 * factories of the transport's own call pool and timer.
 */
public final class SharedTimer {
  private static final ScheduledThreadPoolExecutor TIMER;

  static {
    TIMER =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "tentacle-deadlines");
              t.setDaemon(true);
              return t;
            });
    TIMER.setRemoveOnCancelPolicy(true);
  }

  private SharedTimer() {}

  /** The shared timer. */
  public static ScheduledExecutorService get() {
    return TIMER;
  }

  /** A bounded pool of {@code threads} daemon threads named {@code prefix + n}; idle ones end. */
  public static ThreadPoolExecutor callerPool(String prefix, int threads) {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor p =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, prefix + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    p.allowCoreThreadTimeOut(true);
    return p;
  }

  /** A one-thread daemon timer that forgets cancelled tasks. */
  public static ScheduledThreadPoolExecutor newTimer(String name) {
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread th = new Thread(r, name);
              th.setDaemon(true);
              return th;
            });
    t.setRemoveOnCancelPolicy(true);
    return t;
  }
}
