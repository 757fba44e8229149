package io.workerpools.jdbc.internal;

import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sees what other nodes changed: every poll interval, on one daemon thread, reads the change log
 * past the cache's position and the (small) lease table, and delivers the differences as {@link
 * StoreEvent}s. After losing the database it reloads everything and delivers {@link
 * StoreEvent.Resync}; so does a node that fell behind the change log's retention.
 */
public final class Poller {
  private static final Logger LOG =
      LoggerFactory.getLogger("io.workerpools.jdbc.JdbcInfrastructureStore");
  private static final Duration PRUNE_EVERY = Duration.ofSeconds(60);

  private final Jdbc jdbc;
  private final ConfigCache cache;
  private final LeaseTracker leases;
  private final SerialDelivery delivery;
  private final String nodeId;
  private final Duration changeRetention;
  private final BooleanSupplier closed;
  private ScheduledExecutorService thread;
  private volatile boolean lost;
  private long lastPruneNanos = System.nanoTime();

  public Poller(
      Jdbc jdbc,
      ConfigCache cache,
      LeaseTracker leases,
      SerialDelivery delivery,
      String nodeId,
      Duration changeRetention,
      BooleanSupplier closed) {
    this.jdbc = jdbc;
    this.cache = cache;
    this.leases = leases;
    this.delivery = delivery;
    this.nodeId = nodeId;
    this.changeRetention = changeRetention;
    this.closed = closed;
  }

  /** Starts the poll thread. */
  public void start(Duration interval) {
    thread =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "workerpools-jdbc-poll-" + nodeId);
              t.setDaemon(true);
              return t;
            });
    long every = interval.toNanos();
    thread.scheduleWithFixedDelay(this::pollQuietly, every, every, TimeUnit.NANOSECONDS);
  }

  /** Stops the poll thread, waiting a little for a poll in progress. */
  public void stop() {
    if (thread == null) {
      return;
    }
    thread.shutdownNow();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void pollQuietly() {
    if (closed.getAsBoolean()) {
      return;
    }
    try {
      poll();
    } catch (RuntimeException e) {
      if (closed.getAsBoolean()) {
        return;
      }
      if (!lost) {
        LOG.warn(
            "JDBC store node {} lost the database; it keeps its last known configuration and will"
                + " reload everything when the database is back: {}",
            nodeId,
            e.getMessage());
      }
      lost = true;
    }
    delivery.drain();
  }

  /** One poll: the change log, then the lease table; after a loss, a full reload and a Resync. */
  public void poll() {
    if (lost) {
      reloadAll();
      lost = false;
      LOG.info("JDBC store node {} reached the database again; reloaded", nodeId);
      delivery.enqueue(new StoreEvent.Resync());
      return;
    }
    synchronized (cache.lock()) {
      jdbc.withConnection(
          "poll the change log",
          c -> {
            cache.catchUp(c);
            return null;
          });
    }
    long epoch = leases.nextEpoch();
    leases.polled(epoch, readAllLeases("poll the leases"));
    if (System.nanoTime() - lastPruneNanos > PRUNE_EVERY.toNanos()) {
      lastPruneNanos = System.nanoTime();
      prune();
    }
  }

  /** Loads configuration, health, draining, the change-log position and other nodes' leases. */
  public void reloadAll() {
    synchronized (cache.lock()) {
      jdbc.inTransaction(
          "load the infrastructure",
          c -> {
            ChangeLog.lock(c);
            cache.load(ConfigSql.load(c), ChangeLog.newest(c));
            return null;
          });
    }
    long epoch = leases.nextEpoch();
    leases.reloaded(epoch, readAllLeases("read the leases"));
  }

  private List<LeaseRecord> readAllLeases(String what) {
    return jdbc.withConnection(what, LeaseSql::all);
  }

  /** Drops old change-log rows; a node that had not read them yet reloads and resyncs. */
  private void prune() {
    long oldest =
        jdbc.withConnection("prune the change log", c -> ChangeLog.prune(c, changeRetention));
    boolean behind;
    synchronized (cache.lock()) {
      behind = oldest != Long.MAX_VALUE && oldest > cache.lastSeq() + 1;
    }
    if (behind) {
      reloadAll();
      delivery.enqueue(new StoreEvent.Resync());
    }
  }
}
