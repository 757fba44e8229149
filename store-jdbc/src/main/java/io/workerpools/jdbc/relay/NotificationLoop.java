package io.workerpools.jdbc.relay;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's one listening thread. It keeps a connection of its own (taken from the host's pool
 * and held for good) with {@code LISTEN} on this node's channel, and waits for notices with
 * pgjdbc's {@link PGConnection#getNotifications(int)} in short slices (so that closing is prompt).
 * Each notice's payload goes to {@code onNotice}. Every {@code checkMillis} the connection is
 * proved alive with a query under a network timeout (a stalled database would otherwise leave the
 * wait returning empty forever). When the connection fails it is dropped, and a new one is taken
 * with growing back-off (100 ms doubling to 2 s); after each new {@code LISTEN}, {@code
 * onReconnect} runs (the relay then sweeps for what it missed and re-announces).
 */
final class NotificationLoop implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(NotificationLoop.class);
  static final int SLICE_MILLIS = 250;

  private final DataSource ds;
  private final String channel;
  private final Consumer<String> onNotice;
  private final Runnable onReconnect;
  private final long checkMillis;
  private final Executor networkTimeoutExecutor;
  private final Thread thread;
  private volatile boolean closed;
  private volatile boolean listening;
  private volatile long reconnects;

  NotificationLoop(
      DataSource ds,
      String channel,
      String threadName,
      long checkMillis,
      Executor networkTimeoutExecutor,
      Consumer<String> onNotice,
      Runnable onReconnect) {
    this.ds = ds;
    this.channel = channel;
    this.onNotice = onNotice;
    this.onReconnect = onReconnect;
    this.checkMillis = checkMillis;
    this.networkTimeoutExecutor = networkTimeoutExecutor;
    this.thread = new Thread(this, threadName);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Whether the LISTEN connection is up now. */
  boolean listening() {
    return listening;
  }

  /** How many times the LISTEN connection was (re)established. */
  long connects() {
    return reconnects;
  }

  @Override
  public void run() {
    long backoff = 100;
    while (!closed) {
      try (Connection c = ds.getConnection()) {
        try {
          serve(c);
        } finally {
          listening = false;
          unlisten(c);
        }
        backoff = 100;
      } catch (SQLException | RuntimeException e) {
        listening = false;
        if (closed) {
          return;
        }
        LOG.warn(
            "relay LISTEN connection on channel {} failed ({}); reconnecting in {} ms",
            channel,
            e.getMessage(),
            backoff);
        try {
          TimeUnit.MILLISECONDS.sleep(backoff); // back-off between reconnect attempts
        } catch (InterruptedException x) {
          return;
        }
        backoff = Math.min(2000, backoff * 2);
      }
    }
  }

  private void serve(Connection c) throws SQLException {
    c.setAutoCommit(true);
    c.setNetworkTimeout(networkTimeoutExecutor, (int) Math.max(5_000, checkMillis * 3));
    PGConnection pg = c.unwrap(PGConnection.class);
    try (Statement s = c.createStatement()) {
      s.setQueryTimeout(10);
      s.execute("LISTEN " + channel);
    }
    listening = true;
    reconnects++;
    onReconnect.run();
    long nextCheck = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(checkMillis);
    while (!closed) {
      PGNotification[] notes = pg.getNotifications(SLICE_MILLIS);
      if (notes != null) {
        for (PGNotification n : notes) {
          if (channel.equals(n.getName())) {
            onNotice.accept(n.getParameter());
          }
        }
      }
      if (System.nanoTime() - nextCheck > 0) {
        try (Statement s = c.createStatement()) {
          s.setQueryTimeout(10);
          s.execute("SELECT 1");
        }
        nextCheck = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(checkMillis);
      }
    }
  }

  private static void unlisten(Connection c) {
    try (Statement s = c.createStatement()) {
      // The connection may go back to the host's pool: leave it as it came.
      s.setQueryTimeout(5);
      s.execute("UNLISTEN *");
    } catch (SQLException e) {
      // the connection is broken; the pool drops it
    }
  }

  /** Ends the loop (within one slice) and waits for the thread up to {@code millis}. */
  void close(long millis) {
    closed = true;
    try {
      thread.join(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
