package io.workerpools.jdbc;

import io.workerpools.ConfigurationException;
import io.workerpools.jdbc.internal.Codec;
import io.workerpools.jdbc.internal.SerialDelivery;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.store.StoreListener;
import io.workerpools.store.StoreUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link InfrastructureStore} on plain JDBC, shared by several host nodes through one database.
 * Written and tested for PostgreSQL: it uses {@code INSERT ... ON CONFLICT}, data-modifying {@code
 * WITH} queries and transaction-scoped advisory locks ({@code pg_advisory_xact_lock}); the JDBC
 * calls themselves are driver-neutral (no PostgreSQL driver classes are used).
 *
 * <p>How it works, in short (the design notes in {@code docs/jdbc-store.md} say why):
 *
 * <ul>
 *   <li>Reads of configuration, health and draining come from an in-memory copy, so resolution
 *       never queries the database. {@link #leases()} reads the lease table.
 *   <li>{@link #tryAcquireLease} is one statement: a conditional {@code UPDATE} of the worker's
 *       lease counter ({@code active_leases < cap}, enabled, not draining, worker exists) feeding
 *       the {@code INSERT} of the lease. Caps hold across any number of nodes.
 *   <li>Configuration, health and draining changes are written together with a row in a change log,
 *       under an advisory lock so rows become visible in sequence order. Every node polls the log
 *       every {@link Builder#pollInterval} and the (small) lease table, and delivers what other
 *       nodes changed as {@link StoreEvent}s.
 *   <li>When the database cannot be reached, operations throw {@link StoreUnavailableException}.
 *       The store holds no connection between calls, so it recovers by itself; after the poller has
 *       lost the database it reloads everything and delivers {@link StoreEvent.Resync}.
 * </ul>
 *
 * <p>Threads: one daemon poll thread per store; listeners are called one at a time, in order, from
 * that thread or from the thread that made the change, never while the store holds a lock. Close
 * the store to stop the poll thread. The {@link DataSource} is the host's: pool it (the store opens
 * and closes one connection per operation).
 */
public final class JdbcInfrastructureStore implements InfrastructureStore {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcInfrastructureStore.class);

  /** How often the change log and the lease table are polled, by default. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(100);

  /** How long change-log rows are kept before any node prunes them, by default. */
  public static final Duration DEFAULT_CHANGE_RETENTION = Duration.ofHours(1);

  /** The classpath resource holding the PostgreSQL schema. */
  public static final String SCHEMA_RESOURCE = "/io/workerpools/jdbc/schema-postgresql.sql";

  /** The advisory lock key that serializes change-log writers ("WPCL"). */
  private static final long CHANGE_LOCK = 0x5750_434CL;

  private static final Duration PRUNE_EVERY = Duration.ofSeconds(60);

  private static final String ACQUIRE_SQL =
      "WITH slot AS ("
          + " UPDATE wp_worker_state s SET active_leases = s.active_leases + 1"
          + " FROM wp_workers w"
          + " WHERE s.worker_id = ? AND w.id = s.worker_id AND w.enabled AND NOT s.draining"
          + " AND s.active_leases < coalesce(w.max_leases, 2147483647)"
          + " RETURNING s.worker_id)"
          + " INSERT INTO wp_leases (lease_id, worker_id, pool_id, holder, step_id,"
          + " acquired_s, acquired_n, expires_s, expires_n)"
          + " SELECT ?, slot.worker_id, ?, ?, ?, ?, ?, ?, ? FROM slot";

  /**
   * The built-in worker's lease: granted only while rule 1 holds in the database (the claim's pool
   * is the default pool, no worker is in it, the built-in worker is on). Run in a transaction that
   * holds the change-log lock shared, so no configuration change commits between check and insert.
   */
  private static final String INSERT_BUILT_IN_LEASE_SQL =
      "INSERT INTO wp_leases (lease_id, worker_id, pool_id, holder, step_id,"
          + " acquired_s, acquired_n, expires_s, expires_n)"
          + " SELECT ?, ?, st.default_pool, ?, ?, ?, ?, ?, ? FROM wp_settings st"
          + " WHERE st.id = 1 AND st.built_in_enabled AND st.default_pool = ?"
          + " AND NOT EXISTS (SELECT 1 FROM wp_workers w"
          + " WHERE (w.body::jsonb -> 'pools') @> to_jsonb(st.default_pool))";

  private static final String LEASE_COLUMNS =
      "lease_id, worker_id, pool_id, holder, step_id, acquired_s, acquired_n, expires_s, expires_n";

  private static final String RELEASE_SQL =
      "WITH gone AS (DELETE FROM wp_leases WHERE lease_id = ? RETURNING *),"
          + " dec AS (UPDATE wp_worker_state s SET active_leases = s.active_leases - 1 FROM gone"
          + " WHERE s.worker_id = gone.worker_id AND s.active_leases > 0 RETURNING 1)"
          + " SELECT "
          + LEASE_COLUMNS
          + " FROM gone";

  private static final String EXPIRE_SQL =
      "WITH gone AS (DELETE FROM wp_leases WHERE (expires_s, expires_n) < (?, ?) RETURNING *),"
          + " n AS (SELECT worker_id, count(*) AS c FROM gone GROUP BY worker_id),"
          + " dec AS (UPDATE wp_worker_state s SET active_leases = greatest(0, s.active_leases - n.c)"
          + " FROM n WHERE s.worker_id = n.worker_id RETURNING 1)"
          + " SELECT "
          + LEASE_COLUMNS
          + " FROM gone ORDER BY acquired_s, acquired_n, lease_id";

  private final DataSource dataSource;
  private final String nodeId;
  private final Duration pollInterval;
  private final Duration changeRetention;
  private final CopyOnWriteArrayList<StoreListener> listeners = new CopyOnWriteArrayList<>();
  private final SerialDelivery delivery = new SerialDelivery(() -> listeners);
  private final ScheduledExecutorService poller;

  /** Guards the cached configuration and {@link #lastSeq} while they change. */
  private final Object cacheLock = new Object();

  private volatile Infrastructure infra;
  private final Map<WorkerId, HealthReport> health = new ConcurrentHashMap<>();
  private final Set<WorkerId> draining = ConcurrentHashMap.newKeySet();
  private long lastSeq;

  /**
   * A lease this store instance is granting or granted: {@code record} is null and {@code epoch} is
   * {@link Long#MAX_VALUE} while the insert is in flight; once granted, {@code epoch} is the poll
   * epoch at that moment (a poll with a later epoch read the table after the grant committed).
   */
  private record Mine(LeaseRecord record, long epoch) {}

  /** Leases this store instance granted and has not announced the end of. */
  private final Map<String, Mine> mine = new ConcurrentHashMap<>();

  /** Leases whose release by this node is in flight: the poller leaves them to the release. */
  private final Set<String> releasing = ConcurrentHashMap.newKeySet();

  /** Incremented by each lease poll before it reads the table. */
  private final AtomicLong pollEpoch = new AtomicLong();

  /**
   * Guards {@link #foreign}, {@link #endedLocally}, {@link #endedByPoll} and the announcing of
   * lease events, so that each lease is announced as started once and as ended once.
   */
  private final Object leaseLock = new Object();

  /** Other nodes' leases, as last announced to listeners. */
  private final Map<String, LeaseRecord> foreign = new HashMap<>();

  /**
   * Leases this node ended (released, expired) with the poll epoch then: older snapshots hold them.
   */
  private final Map<String, Long> endedLocally = new HashMap<>();

  /** This node's leases that a poll found gone (another node expired them) and announced ended. */
  private final Set<String> endedByPoll = new HashSet<>();

  private volatile boolean lost;
  private volatile boolean closed;
  private long lastPruneNanos = System.nanoTime();

  private JdbcInfrastructureStore(Builder b) {
    this.dataSource = b.dataSource;
    this.nodeId = b.nodeId;
    this.pollInterval = b.pollInterval;
    this.changeRetention = b.changeRetention;
    if (b.createSchemaIfMissing) {
      createSchema();
    }
    checkSchema();
    reloadAll();
    this.poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "workerpools-jdbc-poll-" + nodeId);
              t.setDaemon(true);
              return t;
            });
    long every = pollInterval.toNanos();
    poller.scheduleWithFixedDelay(this::pollQuietly, every, every, TimeUnit.NANOSECONDS);
  }

  /** A builder over the host's {@link DataSource}. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** The id this store writes into the change log: unique per store instance unless set. */
  public String nodeId() {
    return nodeId;
  }

  /** The schema as shipped ({@value #SCHEMA_RESOURCE}), for hosts that apply it themselves. */
  public static String schemaSql() {
    try (InputStream in = JdbcInfrastructureStore.class.getResourceAsStream(SCHEMA_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + SCHEMA_RESOURCE);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + SCHEMA_RESOURCE, e);
    }
  }

  // ---------------------------------------------------------------- configuration

  @Override
  public Infrastructure infrastructure() {
    return infra;
  }

  @Override
  public void putPool(WorkerPool pool) {
    Objects.requireNonNull(pool, "pool");
    change(
        "put pool " + pool.id(),
        (c, cur) -> {
          Infrastructure next = cur.withPool(pool);
          upsertPool(c, pool, null);
          return new Change(next, List.of(new StoreEvent.PoolPut(pool)));
        });
  }

  @Override
  public void removePool(PoolId pool) {
    Objects.requireNonNull(pool, "pool");
    change(
        "remove pool " + pool,
        (c, cur) -> {
          if (cur.pool(pool).isEmpty()) {
            throw new ConfigurationException(
                "pool " + pool, "does not exist; known pools: " + cur.pools().keySet());
          }
          Infrastructure next = cur.withoutPool(pool);
          update(c, "DELETE FROM wp_pools WHERE id = ?", pool.value());
          return new Change(next, List.of(new StoreEvent.PoolRemoved(pool)));
        });
  }

  @Override
  public void setDefaultPool(PoolId pool) {
    Objects.requireNonNull(pool, "pool");
    change(
        "set the default pool to " + pool,
        (c, cur) -> {
          Infrastructure next = cur.withDefaultPool(pool);
          if (cur.defaultPool().equals(pool)) {
            return new Change(next, List.of());
          }
          writeSettings(c, next);
          return new Change(
              next, List.of(new StoreEvent.DefaultPoolMoved(cur.defaultPool(), pool)));
        });
  }

  @Override
  public void setBuiltInWorkerEnabled(boolean enabled) {
    change(
        "switch the built-in worker " + (enabled ? "on" : "off"),
        (c, cur) -> {
          Infrastructure next = cur.withBuiltInWorkerEnabled(enabled);
          if (cur.builtInWorkerEnabled() == enabled) {
            return new Change(next, List.of());
          }
          writeSettings(c, next);
          return new Change(next, List.of(new StoreEvent.BuiltInWorkerSwitched(enabled)));
        });
  }

  @Override
  public void putWorker(Worker worker) {
    Objects.requireNonNull(worker, "worker");
    change(
        "put worker " + worker.id(),
        (c, cur) -> {
          Worker previous = cur.workers().get(worker.id());
          Infrastructure next = cur.withWorker(worker);
          upsertWorker(c, worker, null);
          return new Change(next, List.of(new StoreEvent.WorkerPut(previous, worker)));
        });
  }

  @Override
  public void removeWorker(WorkerId worker) {
    Objects.requireNonNull(worker, "worker");
    change(
        "remove worker " + worker,
        (c, cur) -> {
          Worker previous = cur.workers().get(worker);
          if (previous == null) {
            return new Change(cur, List.of());
          }
          deleteWorker(c, worker);
          return new Change(
              cur.withoutWorker(worker), List.of(new StoreEvent.WorkerRemoved(previous)));
        });
  }

  @Override
  public void replaceInfrastructure(Infrastructure next) {
    Objects.requireNonNull(next, "infrastructure");
    change(
        "replace the infrastructure",
        (c, prev) -> {
          List<StoreEvent> events = new ArrayList<>();
          for (Worker w : prev.workers().values()) {
            if (!next.workers().containsKey(w.id())) {
              deleteWorker(c, w.id());
              events.add(new StoreEvent.WorkerRemoved(w));
            }
          }
          long pos = 0;
          for (WorkerPool p : next.pools().values()) {
            upsertPool(c, p, pos++);
            if (!p.equals(prev.pools().get(p.id()))) {
              events.add(new StoreEvent.PoolPut(p));
            }
          }
          pos = 0;
          for (Worker w : next.workers().values()) {
            upsertWorker(c, w, pos++);
            Worker old = prev.workers().get(w.id());
            if (!w.equals(old)) {
              events.add(new StoreEvent.WorkerPut(old, w));
            }
          }
          for (PoolId p : prev.pools().keySet()) {
            if (!next.pools().containsKey(p)) {
              update(c, "DELETE FROM wp_pools WHERE id = ?", p.value());
              events.add(new StoreEvent.PoolRemoved(p));
            }
          }
          writeSettings(c, next);
          if (!prev.defaultPool().equals(next.defaultPool())) {
            events.add(new StoreEvent.DefaultPoolMoved(prev.defaultPool(), next.defaultPool()));
          }
          if (prev.builtInWorkerEnabled() != next.builtInWorkerEnabled()) {
            events.add(new StoreEvent.BuiltInWorkerSwitched(next.builtInWorkerEnabled()));
          }
          return new Change(next, events);
        });
  }

  // ---------------------------------------------------------------- runtime state

  @Override
  public void recordHealth(WorkerId worker, HealthReport report) {
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(report, "report");
    change(
        "record the health of worker " + worker,
        (c, cur) -> {
          if (!cur.workers().containsKey(worker)) {
            return new Change(cur, List.of());
          }
          update(
              c,
              "UPDATE wp_worker_state SET health = ? WHERE worker_id = ?",
              Codec.health(report),
              worker.value());
          return new Change(
              cur, List.of(new StoreEvent.HealthRecorded(worker, health.get(worker), report)));
        });
  }

  @Override
  public Map<WorkerId, HealthReport> health() {
    return Map.copyOf(health);
  }

  @Override
  public void setDraining(WorkerId worker, boolean drain) {
    Objects.requireNonNull(worker, "worker");
    change(
        (drain ? "start" : "stop") + " draining worker " + worker,
        (c, cur) -> {
          if (!cur.workers().containsKey(worker)) {
            throw new ConfigurationException("worker " + worker, "does not exist");
          }
          if (draining.contains(worker) == drain) {
            return new Change(cur, List.of());
          }
          update(
              c,
              "UPDATE wp_worker_state SET draining = ? WHERE worker_id = ?",
              drain,
              worker.value());
          return new Change(cur, List.of(new StoreEvent.DrainingChanged(worker, drain)));
        });
  }

  @Override
  public Set<WorkerId> draining() {
    return Set.copyOf(draining);
  }

  // ---------------------------------------------------------------- leases

  @Override
  public Optional<LeaseRecord> tryAcquireLease(LeaseRecord claim) {
    Objects.requireNonNull(claim, "claim");
    // Registered before the row can exist, so the poller never takes it for another node's lease.
    if (mine.putIfAbsent(claim.leaseId(), new Mine(null, Long.MAX_VALUE)) != null) {
      throw new IllegalArgumentException("lease id already in use: " + claim.leaseId());
    }
    int rows;
    try {
      String what = "acquire a lease on worker " + claim.worker();
      rows =
          claim.worker().equals(Worker.BUILT_IN_ID)
              ? inTransaction(
                  what,
                  c -> {
                    lockChangeLogShared(c);
                    try (PreparedStatement ps = c.prepareStatement(INSERT_BUILT_IN_LEASE_SQL)) {
                      ps.setString(1, claim.leaseId());
                      ps.setString(2, claim.worker().value());
                      int i = bindLeaseTail(ps, 3, claim);
                      ps.setString(i, claim.pool().value());
                      return ps.executeUpdate();
                    }
                  })
              : withConnection(
                  what,
                  c -> {
                    try (PreparedStatement ps = c.prepareStatement(ACQUIRE_SQL)) {
                      ps.setString(1, claim.worker().value());
                      ps.setString(2, claim.leaseId());
                      ps.setString(3, claim.pool().value());
                      bindLeaseTail(ps, 4, claim);
                      return ps.executeUpdate();
                    }
                  });
    } catch (DuplicateKey e) {
      mine.remove(claim.leaseId());
      throw new IllegalArgumentException("lease id already in use: " + claim.leaseId());
    } catch (RuntimeException e) {
      mine.remove(claim.leaseId());
      throw e;
    }
    if (rows == 0) {
      mine.remove(claim.leaseId());
      return Optional.empty();
    }
    synchronized (leaseLock) {
      mine.put(claim.leaseId(), new Mine(claim, pollEpoch.get()));
      delivery.enqueue(new StoreEvent.LeaseAcquired(claim));
    }
    delivery.drain();
    return Optional.of(claim);
  }

  @Override
  public int renewLeases(String holder, Instant expiresAt) {
    Objects.requireNonNull(holder, "holder");
    Objects.requireNonNull(expiresAt, "expiresAt");
    return withConnection(
        "renew the leases of " + holder,
        c ->
            update(
                c,
                "UPDATE wp_leases SET expires_s = ?, expires_n = ? WHERE holder = ?",
                expiresAt.getEpochSecond(),
                expiresAt.getNano(),
                holder));
  }

  @Override
  public boolean releaseLease(String leaseId) {
    Objects.requireNonNull(leaseId, "leaseId");
    releasing.add(leaseId);
    try {
      List<LeaseRecord> gone =
          withConnection(
              "release lease " + leaseId,
              c -> {
                try (PreparedStatement ps = c.prepareStatement(RELEASE_SQL)) {
                  ps.setString(1, leaseId);
                  return readLeases(ps);
                }
              });
      if (gone.isEmpty()) {
        return false;
      }
      ended(gone, false);
      return true;
    } finally {
      releasing.remove(leaseId);
    }
  }

  @Override
  public List<LeaseRecord> leases() {
    return withConnection(
        "read the leases",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + LEASE_COLUMNS
                      + " FROM wp_leases ORDER BY acquired_s, acquired_n, lease_id")) {
            return List.copyOf(readLeases(ps));
          }
        });
  }

  @Override
  public List<LeaseRecord> expireLeases(Instant now) {
    Objects.requireNonNull(now, "now");
    List<LeaseRecord> gone =
        withConnection(
            "expire leases",
            c -> {
              try (PreparedStatement ps = c.prepareStatement(EXPIRE_SQL)) {
                ps.setLong(1, now.getEpochSecond());
                ps.setInt(2, now.getNano());
                return readLeases(ps);
              }
            });
    ended(gone, true);
    return List.copyOf(gone);
  }

  /** Announces leases this node ended; announces the start first for one it never announced. */
  private void ended(List<LeaseRecord> gone, boolean expired) {
    synchronized (leaseLock) {
      long epoch = pollEpoch.get();
      for (LeaseRecord r : gone) {
        String id = r.leaseId();
        endedLocally.put(id, epoch);
        boolean announced = mine.remove(id) != null || foreign.remove(id) != null;
        if (!announced && endedByPoll.remove(id)) {
          continue; // the poller saw it gone first and announced its end
        }
        if (!announced) {
          delivery.enqueue(new StoreEvent.LeaseAcquired(r));
        }
        delivery.enqueue(new StoreEvent.LeaseEnded(r, expired));
      }
    }
    delivery.drain();
  }

  // ---------------------------------------------------------------- changes

  @Override
  public AutoCloseable subscribe(StoreListener listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /** Stops the poll thread. The host's {@link DataSource} is left open: it is the host's. */
  @Override
  public void close() {
    closed = true;
    poller.shutdownNow();
    try {
      poller.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** What a configuration change leaves behind: the new configuration and the events it made. */
  private record Change(Infrastructure next, List<StoreEvent> events) {}

  /** A change once its change-log row is written. */
  private record Logged(Change change, long seq) {}

  @FunctionalInterface
  private interface Mutation {
    Change apply(Connection c, Infrastructure current) throws SQLException;
  }

  @FunctionalInterface
  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  /** A unique-key violation, which callers turn into their own error. */
  private static final class DuplicateKey extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DuplicateKey(SQLException cause) {
      super(cause);
    }
  }

  /**
   * Applies a change in one transaction holding the change-log lock: first catches up with what
   * other nodes wrote (so validation sees the database's configuration), then writes the change and
   * its change-log row. The cache and the listeners see it only once it is committed.
   */
  private void change(String what, Mutation mutation) {
    synchronized (cacheLock) {
      Logged done =
          inTransaction(
              what,
              c -> {
                lockChangeLog(c);
                catchUp(c);
                Change ch = mutation.apply(c, infra);
                long seq = ch.events().isEmpty() ? -1 : appendChangeLog(c, ch.events());
                return new Logged(ch, seq);
              });
      if (done.seq() >= 0) {
        applyEvents(done.change().events());
        infra = done.change().next();
        lastSeq = Math.max(lastSeq, done.seq());
        done.change().events().forEach(delivery::enqueue);
      }
    }
    delivery.drain();
  }

  /** Binds holder, step and the two instants from {@code i}; returns the next index. */
  private static int bindLeaseTail(PreparedStatement ps, int i, LeaseRecord claim)
      throws SQLException {
    ps.setString(i++, claim.holder());
    ps.setString(i++, claim.stepId());
    ps.setLong(i++, claim.acquiredAt().getEpochSecond());
    ps.setInt(i++, claim.acquiredAt().getNano());
    ps.setLong(i++, claim.expiresAt().getEpochSecond());
    ps.setInt(i++, claim.expiresAt().getNano());
    return i;
  }

  /** Holds the change-log lock shared: configuration writers (exclusive) wait until commit. */
  private void lockChangeLogShared(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock_shared(?)")) {
      ps.setLong(1, CHANGE_LOCK);
      ps.execute();
    }
  }

  private void lockChangeLog(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
      ps.setLong(1, CHANGE_LOCK);
      ps.execute();
    }
  }

  private long appendChangeLog(Connection c, List<StoreEvent> events) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO wp_changes (node, events) VALUES (?, ?) RETURNING seq")) {
      ps.setString(1, nodeId);
      ps.setString(2, Codec.events(events));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Reads change-log rows past {@link #lastSeq}, applies them and queues their events. */
  private void catchUp(Connection c) throws SQLException {
    List<StoreEvent> events = new ArrayList<>();
    long seq = lastSeq;
    try (PreparedStatement ps =
        c.prepareStatement("SELECT seq, events FROM wp_changes WHERE seq > ? ORDER BY seq")) {
      ps.setLong(1, lastSeq);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          seq = rs.getLong(1);
          events.addAll(Codec.events(rs.getString(2)));
        }
      }
    }
    if (seq == lastSeq) {
      return;
    }
    try {
      applyEvents(events);
    } catch (RuntimeException inconsistent) {
      LOG.warn(
          "change log did not apply cleanly to the cached configuration; reloading", inconsistent);
      loadConfiguration(c);
    }
    lastSeq = seq;
    events.forEach(delivery::enqueue);
  }

  /**
   * Applies events to the cache. Configuration events are applied to plain maps and validated once
   * at the end: a replacement's events are valid as a whole, not one by one.
   */
  private void applyEvents(List<StoreEvent> events) {
    Infrastructure cur = infra;
    Map<PoolId, WorkerPool> pools = new LinkedHashMap<>(cur.pools());
    Map<WorkerId, Worker> workers = new LinkedHashMap<>(cur.workers());
    PoolId defaultPool = cur.defaultPool();
    boolean builtIn = cur.builtInWorkerEnabled();
    boolean config = false;
    for (StoreEvent e : events) {
      if (e instanceof StoreEvent.PoolPut p) {
        pools.put(p.pool().id(), p.pool());
        config = true;
      } else if (e instanceof StoreEvent.PoolRemoved p) {
        pools.remove(p.pool());
        config = true;
      } else if (e instanceof StoreEvent.WorkerPut w) {
        workers.put(w.worker().id(), w.worker());
        config = true;
      } else if (e instanceof StoreEvent.WorkerRemoved w) {
        workers.remove(w.worker().id());
        health.remove(w.worker().id());
        draining.remove(w.worker().id());
        config = true;
      } else if (e instanceof StoreEvent.DefaultPoolMoved d) {
        defaultPool = d.current();
        config = true;
      } else if (e instanceof StoreEvent.BuiltInWorkerSwitched b) {
        builtIn = b.enabled();
        config = true;
      } else if (e instanceof StoreEvent.HealthRecorded h) {
        health.put(h.worker(), h.current());
      } else if (e instanceof StoreEvent.DrainingChanged d) {
        if (d.draining()) {
          draining.add(d.worker());
        } else {
          draining.remove(d.worker());
        }
      }
    }
    if (config) {
      infra = new Infrastructure(pools, workers, defaultPool, builtIn);
    }
  }

  // ---------------------------------------------------------------- polling

  private void pollQuietly() {
    if (closed) {
      return;
    }
    try {
      poll();
    } catch (RuntimeException e) {
      if (closed) {
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
  void poll() {
    if (lost) {
      reloadAll();
      lost = false;
      LOG.info("JDBC store node {} reached the database again; reloaded", nodeId);
      delivery.enqueue(new StoreEvent.Resync());
      return;
    }
    synchronized (cacheLock) {
      withConnection(
          "poll the change log",
          c -> {
            catchUp(c);
            return null;
          });
    }
    pollLeases();
    if (System.nanoTime() - lastPruneNanos > PRUNE_EVERY.toNanos()) {
      lastPruneNanos = System.nanoTime();
      prune();
    }
  }

  /**
   * Diffs the lease table against what was announced: other nodes' new and ended leases, and this
   * node's leases that another node ended (expired them). The table is read outside the lock; the
   * epochs say which local grants and ends the snapshot already reflects.
   */
  private void pollLeases() {
    long epoch = pollEpoch.incrementAndGet();
    List<LeaseRecord> now = readAllLeases("poll the leases");
    synchronized (leaseLock) {
      Set<String> inTable = new HashSet<>();
      for (LeaseRecord r : now) {
        String id = r.leaseId();
        inTable.add(id);
        if (mine.containsKey(id) || endedLocally.containsKey(id) || foreign.containsKey(id)) {
          continue;
        }
        foreign.put(id, r);
        delivery.enqueue(new StoreEvent.LeaseAcquired(r));
      }
      var it = foreign.values().iterator();
      while (it.hasNext()) {
        LeaseRecord r = it.next();
        if (!inTable.contains(r.leaseId())) {
          it.remove();
          delivery.enqueue(new StoreEvent.LeaseEnded(r, false));
        }
      }
      var own = mine.entrySet().iterator();
      while (own.hasNext()) {
        Map.Entry<String, Mine> e = own.next();
        if (e.getValue().epoch() < epoch
            && !inTable.contains(e.getKey())
            && !releasing.contains(e.getKey())) {
          own.remove();
          if (endedByPoll.size() > 10_000) {
            endedByPoll.clear(); // only leases whose holder never released them pile up here
          }
          endedByPoll.add(e.getKey());
          delivery.enqueue(new StoreEvent.LeaseEnded(e.getValue().record(), true));
        }
      }
      endedLocally.values().removeIf(ended -> ended < epoch);
    }
  }

  private List<LeaseRecord> readAllLeases(String what) {
    return withConnection(
        what,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + LEASE_COLUMNS
                      + " FROM wp_leases ORDER BY acquired_s, acquired_n, lease_id")) {
            return readLeases(ps);
          }
        });
  }

  /** Drops old change-log rows; a node that had not read them yet reloads and resyncs. */
  private void prune() {
    long oldest =
        withConnection(
            "prune the change log",
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "DELETE FROM wp_changes WHERE made_at < now() - ? * interval '1 millisecond'")) {
                ps.setLong(1, changeRetention.toMillis());
                ps.executeUpdate();
              }
              try (Statement st = c.createStatement();
                  ResultSet rs = st.executeQuery("SELECT min(seq) FROM wp_changes")) {
                rs.next();
                long min = rs.getLong(1);
                return rs.wasNull() ? Long.MAX_VALUE : min;
              }
            });
    boolean behind;
    synchronized (cacheLock) {
      behind = oldest != Long.MAX_VALUE && oldest > lastSeq + 1;
    }
    if (behind) {
      reloadAll();
      delivery.enqueue(new StoreEvent.Resync());
    }
  }

  // ---------------------------------------------------------------- loading

  /** Loads configuration, health, draining, the change-log position and other nodes' leases. */
  private void reloadAll() {
    synchronized (cacheLock) {
      inTransaction(
          "load the infrastructure",
          c -> {
            lockChangeLog(c);
            loadConfiguration(c);
            try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT coalesce(max(seq), 0) FROM wp_changes")) {
              rs.next();
              lastSeq = rs.getLong(1);
            }
            return null;
          });
    }
    long epoch = pollEpoch.incrementAndGet();
    List<LeaseRecord> now = readAllLeases("read the leases");
    // Silently: listeners rebuild from a fresh read (Resync) or have not subscribed yet.
    synchronized (leaseLock) {
      Set<String> inTable = new HashSet<>();
      foreign.clear();
      for (LeaseRecord r : now) {
        inTable.add(r.leaseId());
        if (!mine.containsKey(r.leaseId()) && !endedLocally.containsKey(r.leaseId())) {
          foreign.put(r.leaseId(), r);
        }
      }
      mine.entrySet().removeIf(e -> e.getValue().epoch() < epoch && !inTable.contains(e.getKey()));
      endedLocally.values().removeIf(ended -> ended < epoch);
    }
  }

  private void loadConfiguration(Connection c) throws SQLException {
    PoolId defaultPool;
    boolean builtIn;
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT default_pool, built_in_enabled FROM wp_settings WHERE id = 1")) {
      if (!rs.next()) {
        throw new ConfigurationException(
            "wp_settings",
            "has no row; apply "
                + SCHEMA_RESOURCE
                + " (it inserts the initial row) or build the store with createSchemaIfMissing(true)");
      }
      defaultPool = PoolId.of(rs.getString(1));
      builtIn = rs.getBoolean(2);
    }
    Map<PoolId, WorkerPool> pools = new LinkedHashMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT id, name, description FROM wp_pools ORDER BY position, id")) {
      while (rs.next()) {
        WorkerPool p = new WorkerPool(PoolId.of(rs.getString(1)), rs.getString(2), rs.getString(3));
        pools.put(p.id(), p);
      }
    }
    Map<WorkerId, Worker> workers = new LinkedHashMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT body FROM wp_workers ORDER BY position, id")) {
      while (rs.next()) {
        Worker w = Codec.worker(rs.getString(1));
        workers.put(w.id(), w);
      }
    }
    Map<WorkerId, HealthReport> h = new HashMap<>();
    List<WorkerId> d = new ArrayList<>();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT s.worker_id, s.draining, s.health FROM wp_worker_state s"
                    + " JOIN wp_workers w ON w.id = s.worker_id"
                    + " WHERE s.draining OR s.health IS NOT NULL")) {
      while (rs.next()) {
        WorkerId id = WorkerId.of(rs.getString(1));
        if (rs.getBoolean(2)) {
          d.add(id);
        }
        HealthReport r = Codec.health(rs.getString(3));
        if (r != null) {
          h.put(id, r);
        }
      }
    }
    infra = new Infrastructure(pools, workers, defaultPool, builtIn);
    health.keySet().retainAll(h.keySet());
    health.putAll(h);
    draining.retainAll(d);
    draining.addAll(d);
  }

  // ---------------------------------------------------------------- schema

  private void createSchema() {
    String sql = schemaSql();
    StringBuilder noComments = new StringBuilder();
    for (String line : sql.split("\n")) {
      if (!line.trim().startsWith("--")) {
        noComments.append(line).append('\n');
      }
    }
    inTransaction(
        "create the WorkerPools tables",
        c -> {
          lockChangeLog(c);
          try (Statement st = c.createStatement()) {
            for (String stmt : noComments.toString().split(";")) {
              if (!stmt.isBlank()) {
                st.execute(stmt);
              }
            }
          }
          return null;
        });
  }

  private void checkSchema() {
    try {
      withConnection(
          "check the WorkerPools tables",
          c -> {
            try (Statement st = c.createStatement()) {
              st.executeQuery(
                      "SELECT 1 FROM wp_settings, wp_pools, wp_workers, wp_worker_state, wp_leases,"
                          + " wp_changes LIMIT 0")
                  .close();
            }
            return null;
          });
    } catch (StoreUnavailableException e) {
      if (e.getCause() instanceof SQLException s && "42P01".equals(s.getSQLState())) {
        throw new ConfigurationException(
            "dataSource",
            "the database has no WorkerPools tables ("
                + s.getMessage()
                + "); apply "
                + SCHEMA_RESOURCE
                + " with your migration tool, or build the store with createSchemaIfMissing(true)",
            s);
      }
      throw e;
    }
  }

  // ---------------------------------------------------------------- SQL helpers

  private static void upsertPool(Connection c, WorkerPool p, Long position) throws SQLException {
    String pos = position == null ? "(SELECT coalesce(max(position) + 1, 0) FROM wp_pools)" : "?";
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO wp_pools (id, name, description, position) VALUES (?, ?, ?, "
                + pos
                + ") ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                + " description = excluded.description"
                + (position == null ? "" : ", position = excluded.position"))) {
      ps.setString(1, p.id().value());
      ps.setString(2, p.name());
      ps.setString(3, p.description());
      if (position != null) {
        ps.setLong(4, position);
      }
      ps.executeUpdate();
    }
  }

  private static void upsertWorker(Connection c, Worker w, Long position) throws SQLException {
    String pos = position == null ? "(SELECT coalesce(max(position) + 1, 0) FROM wp_workers)" : "?";
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO wp_workers (id, name, enabled, max_leases, body, position)"
                + " VALUES (?, ?, ?, ?, ?, "
                + pos
                + ") ON CONFLICT (id) DO UPDATE SET name = excluded.name, enabled = excluded.enabled,"
                + " max_leases = excluded.max_leases, body = excluded.body"
                + (position == null ? "" : ", position = excluded.position"))) {
      ps.setString(1, w.id().value());
      ps.setString(2, w.name());
      ps.setBoolean(3, w.enabled());
      if (w.maxConcurrentSteps().isPresent()) {
        ps.setInt(4, w.maxConcurrentSteps().getAsInt());
      } else {
        ps.setNull(4, Types.INTEGER);
      }
      ps.setString(5, Codec.worker(w));
      if (position != null) {
        ps.setLong(6, position);
      }
      ps.executeUpdate();
    }
    update(
        c,
        "INSERT INTO wp_worker_state (worker_id) VALUES (?) ON CONFLICT DO NOTHING",
        w.id().value());
  }

  private static void deleteWorker(Connection c, WorkerId id) throws SQLException {
    update(c, "DELETE FROM wp_workers WHERE id = ?", id.value());
    update(
        c,
        "UPDATE wp_worker_state SET draining = false, health = NULL WHERE worker_id = ?",
        id.value());
  }

  private static void writeSettings(Connection c, Infrastructure next) throws SQLException {
    update(
        c,
        "UPDATE wp_settings SET default_pool = ?, built_in_enabled = ? WHERE id = 1",
        next.defaultPool().value(),
        next.builtInWorkerEnabled());
  }

  private static int update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      return ps.executeUpdate();
    }
  }

  private static List<LeaseRecord> readLeases(PreparedStatement ps) throws SQLException {
    List<LeaseRecord> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new LeaseRecord(
                rs.getString(1),
                WorkerId.of(rs.getString(2)),
                PoolId.of(rs.getString(3)),
                rs.getString(4),
                rs.getString(5),
                Instant.ofEpochSecond(rs.getLong(6), rs.getInt(7)),
                Instant.ofEpochSecond(rs.getLong(8), rs.getInt(9))));
      }
    }
    return out;
  }

  /** Runs one auto-committed unit of work. */
  private <T> T withConnection(String what, SqlWork<T> work) {
    try (Connection c = connect(what)) {
      return work.run(c);
    } catch (SQLException e) {
      throw translate(what, e);
    }
  }

  /** Runs a transaction, retried a few times on a deadlock or serialization failure. */
  private <T> T inTransaction(String what, SqlWork<T> work) {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = connect(what)) {
        c.setAutoCommit(false);
        try {
          T result = work.run(c);
          c.commit();
          return result;
        } catch (SQLException | RuntimeException e) {
          rollbackQuietly(c);
          throw e;
        }
      } catch (SQLException e) {
        String state = e.getSQLState();
        boolean retry = "40001".equals(state) || "40P01".equals(state);
        if (!retry || attempt >= 5) {
          throw translate(what, e);
        }
      }
    }
  }

  private Connection connect(String what) throws SQLException {
    if (closed) {
      throw new IllegalStateException("the JDBC store is closed; cannot " + what);
    }
    return dataSource.getConnection();
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The connection is gone; the transaction dies with it.
    }
  }

  private RuntimeException translate(String what, SQLException e) {
    if ("23505".equals(e.getSQLState())) {
      return new DuplicateKey(e);
    }
    String hint =
        "42P01".equals(e.getSQLState()) || "42703".equals(e.getSQLState())
            ? " The WorkerPools tables are missing or outdated: apply " + SCHEMA_RESOURCE + "."
            : " The operation was not applied. The store holds no connection between calls and"
                + " works again by itself once the database is reachable.";
    return new StoreUnavailableException(
        "JDBC store (node "
            + nodeId
            + ") could not "
            + what
            + ": "
            + e.getMessage()
            + " [SQLState "
            + e.getSQLState()
            + "]."
            + hint,
        e);
  }

  /**
   * Builds a {@link JdbcInfrastructureStore}. Defaults: schema not created, poll every {@value
   * #DEFAULT_POLL_MILLIS} ms, change-log rows kept one hour, a random node id.
   */
  public static final class Builder {
    static final long DEFAULT_POLL_MILLIS = 100;
    private final DataSource dataSource;
    private boolean createSchemaIfMissing;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private Duration changeRetention = DEFAULT_CHANGE_RETENTION;
    private String nodeId = UUID.randomUUID().toString();

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Creates the tables (and the initial default pool) if they are missing. Off by default. */
    public Builder createSchemaIfMissing(boolean create) {
      this.createSchemaIfMissing = create;
      return this;
    }

    /**
     * How often the change log and the lease table are read: the bound on how late another node's
     * change is seen. Between 10 ms and 1 minute.
     */
    public Builder pollInterval(Duration interval) {
      Objects.requireNonNull(interval, "pollInterval");
      if (interval.compareTo(Duration.ofMillis(10)) < 0
          || interval.compareTo(Duration.ofMinutes(1)) > 0) {
        throw new ConfigurationException(
            "pollInterval", "must be between 10 ms and 1 minute but was " + interval);
      }
      this.pollInterval = interval;
      return this;
    }

    /**
     * How long change-log rows are kept. A node that falls further behind than this reloads
     * everything. At least one minute.
     */
    public Builder changeRetention(Duration retention) {
      Objects.requireNonNull(retention, "changeRetention");
      if (retention.compareTo(Duration.ofMinutes(1)) < 0) {
        throw new ConfigurationException(
            "changeRetention", "must be at least 1 minute but was " + retention);
      }
      this.changeRetention = retention;
      return this;
    }

    /** The id written into the change log (for people reading it). Random by default. */
    public Builder nodeId(String id) {
      if (id == null || id.isBlank()) {
        throw new ConfigurationException("nodeId", "must not be empty");
      }
      this.nodeId = id;
      return this;
    }

    /**
     * Connects, checks (or creates) the tables and loads the configuration.
     *
     * @throws StoreUnavailableException if the database cannot be reached
     * @throws ConfigurationException if the tables are missing and {@link #createSchemaIfMissing}
     *     is off
     */
    public JdbcInfrastructureStore build() {
      return new JdbcInfrastructureStore(this);
    }
  }
}
