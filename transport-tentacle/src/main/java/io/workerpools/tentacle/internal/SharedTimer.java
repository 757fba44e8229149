package io.workerpools.tentacle.internal;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** One daemon timer thread for deadlines of callers that bring no scheduler of their own. */
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
}
