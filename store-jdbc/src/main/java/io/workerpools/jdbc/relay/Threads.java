package io.workerpools.jdbc.relay;

import java.sql.SQLException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The relay's threads: a bounded pool for statements and handlers, and one timer. */
final class Threads {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresRelay.class);

  private Threads() {}

  static ThreadPoolExecutor pool(String name, int threads) {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor p =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(100_000),
            r -> {
              Thread t = new Thread(r, name + "-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    p.allowCoreThreadTimeOut(true);
    return p;
  }

  static ScheduledThreadPoolExecutor timer(String name) {
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

  /** Runs {@code w} on {@code pool}, logging a database failure; nothing if the pool is shut. */
  static void execute(ThreadPoolExecutor pool, PostgresRelay.Work w, String who) {
    try {
      pool.execute(
          () -> {
            try {
              w.run();
            } catch (SQLException | RuntimeException e) {
              LOG.warn("{}: a relay statement failed: {}", who, e.getMessage());
            }
          });
    } catch (RejectedExecutionException e) {
      // closing, or a backlog of 100,000: the sweep or the caller's deadline makes it good
    }
  }
}
