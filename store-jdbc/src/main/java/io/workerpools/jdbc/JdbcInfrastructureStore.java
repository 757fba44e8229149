package io.workerpools.jdbc;

import io.workerpools.ConfigurationException;
import io.workerpools.jdbc.internal.ChangeLog;
import io.workerpools.jdbc.internal.ConfigCache;
import io.workerpools.jdbc.internal.ConfigSql;
import io.workerpools.jdbc.internal.Jdbc;
import io.workerpools.jdbc.internal.LeaseOps;
import io.workerpools.jdbc.internal.LeaseTracker;
import io.workerpools.jdbc.internal.Poller;
import io.workerpools.jdbc.internal.Schema;
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
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;

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
 *
 * <p>How it is made (in {@code internal}, after db-scheduler's {@code JdbcTaskRepository}): {@code
 * LeaseSql}, {@code ConfigSql} and {@code ChangeLog} are stateless SQL, one compare-and-set
 * statement per lease operation; {@code Schema} applies and checks the tables; {@code Jdbc} runs
 * units of work and translates failures; {@code ConfigCache} is the in-memory copy; {@code
 * LeaseTracker} announces each lease once; {@code Poller} polls. This class is the facade.
 */
public final class JdbcInfrastructureStore implements InfrastructureStore {
  /** How often the change log and the lease table are polled, by default. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(100);

  /** How long change-log rows are kept before any node prunes them, by default. */
  public static final Duration DEFAULT_CHANGE_RETENTION = Duration.ofHours(1);

  /**
   * The class-path directory of the schema's migration files ({@code V1__initial.sql}, {@code
   * V2__...}), for hosts that apply them with their own migration tool.
   */
  public static final String SCHEMA_DIRECTORY = Schema.DIRECTORY;

  /** The schema version this store reads and writes ({@code wp_schema_version}). */
  public static final int SCHEMA_VERSION = Schema.CURRENT;

  private final String nodeId;
  private final CopyOnWriteArrayList<StoreListener> listeners = new CopyOnWriteArrayList<>();
  private final SerialDelivery delivery = new SerialDelivery(() -> listeners);
  private final Jdbc jdbc;
  private final ConfigCache cache = new ConfigCache(delivery);
  private final LeaseTracker leases = new LeaseTracker(delivery);
  private final Poller poller;
  private final LeaseOps leaseOps;
  private volatile boolean closed;

  private JdbcInfrastructureStore(Builder b) {
    this.nodeId = b.nodeId;
    this.jdbc = new Jdbc(b.dataSource, nodeId, () -> closed);
    this.leaseOps = new LeaseOps(jdbc, leases, delivery);
    this.poller =
        new Poller(jdbc, cache, leases, delivery, nodeId, b.changeRetention, () -> closed);
    if (b.migrateSchema) {
      Schema.migrate(jdbc);
    }
    Schema.check(jdbc);
    poller.reloadAll();
    poller.start(b.pollInterval);
  }

  /** A builder over the host's {@link DataSource}. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** The id this store writes into the change log: unique per store instance unless set. */
  public String nodeId() {
    return nodeId;
  }

  /**
   * Every migration of the schema, oldest first, as one script: what {@link Builder#migrateSchema}
   * applies to an empty database, for hosts that apply it themselves.
   */
  public static String schemaSql() {
    return Schema.sql();
  }

  // ---------------------------------------------------------------- configuration

  @Override
  public Infrastructure infrastructure() {
    return cache.infrastructure();
  }

  @Override
  public void putPool(WorkerPool pool) {
    Objects.requireNonNull(pool, "pool");
    change(
        "put pool " + pool.id(),
        (c, cur) -> {
          Infrastructure next = cur.withPool(pool);
          ConfigSql.upsertPool(c, pool, null);
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
          ConfigSql.deletePool(c, pool);
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
          ConfigSql.writeSettings(c, next);
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
          ConfigSql.writeSettings(c, next);
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
          ConfigSql.upsertWorker(c, worker, null);
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
          ConfigSql.deleteWorker(c, worker);
          return new Change(
              cur.withoutWorker(worker), List.of(new StoreEvent.WorkerRemoved(previous)));
        });
  }

  @Override
  public void replaceInfrastructure(Infrastructure next) {
    Objects.requireNonNull(next, "infrastructure");
    change(
        "replace the infrastructure",
        (c, prev) -> new Change(next, ConfigSql.replace(c, prev, next)));
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
          ConfigSql.writeHealth(c, worker, report);
          return new Change(
              cur, List.of(new StoreEvent.HealthRecorded(worker, cache.healthOf(worker), report)));
        });
  }

  @Override
  public Map<WorkerId, HealthReport> health() {
    return cache.health();
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
          if (cache.isDraining(worker) == drain) {
            return new Change(cur, List.of());
          }
          ConfigSql.writeDraining(c, worker, drain);
          return new Change(cur, List.of(new StoreEvent.DrainingChanged(worker, drain)));
        });
  }

  @Override
  public Set<WorkerId> draining() {
    return cache.draining();
  }

  // ---------------------------------------------------------------- leases

  @Override
  public Optional<LeaseRecord> tryAcquireLease(LeaseRecord claim) {
    return leaseOps.tryAcquire(claim);
  }

  /** Lease time is the database's: {@code now} is not used, {@code ttl} is. */
  @Override
  public int renewLeases(String holder, Instant now, Duration ttl) {
    return leaseOps.renew(holder, ttl);
  }

  /** Node ids are held by the database's clock: {@code now} is not used, {@code ttl} is. */
  @Override
  public void heartbeatNode(String nodeId, String instance, Instant now, Duration ttl) {
    leaseOps.heartbeat(nodeId, instance, ttl);
  }

  @Override
  public void leaveNode(String nodeId, String instance) {
    leaseOps.leave(nodeId, instance);
  }

  @Override
  public boolean releaseLease(String leaseId) {
    return leaseOps.release(leaseId);
  }

  @Override
  public List<LeaseRecord> leases() {
    return leaseOps.all();
  }

  /** Expiry is by the database's clock: {@code now} is not used. */
  @Override
  public List<LeaseRecord> expireLeases(Instant now) {
    return leaseOps.expire();
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
    poller.stop();
  }

  /** One poll, now (tests). */
  void poll() {
    poller.poll();
  }

  /** What a configuration change leaves behind: the new configuration and the events it made. */
  private record Change(Infrastructure next, List<StoreEvent> events) {}

  /** A change once its change-log row is written. */
  private record Logged(Change change, long seq) {}

  @FunctionalInterface
  private interface Mutation {
    Change apply(Connection c, Infrastructure current) throws SQLException;
  }

  /**
   * Applies a change in one transaction holding the change-log lock: first catches up with what
   * other nodes wrote (so validation sees the database's configuration), then writes the change and
   * its change-log row. The cache and the listeners see it only once it is committed.
   */
  private void change(String what, Mutation mutation) {
    synchronized (cache.lock()) {
      Logged done =
          jdbc.inTransaction(
              what,
              c -> {
                ChangeLog.lock(c);
                cache.catchUp(c);
                Change ch = mutation.apply(c, cache.infrastructure());
                long seq = ch.events().isEmpty() ? -1 : ChangeLog.append(c, nodeId, ch.events());
                return new Logged(ch, seq);
              });
      if (done.seq() >= 0) {
        cache.committed(done.change().next(), done.change().events(), done.seq());
      }
    }
    delivery.drain();
  }

  /**
   * Builds a {@link JdbcInfrastructureStore}. Defaults: schema not created, poll every {@value
   * #DEFAULT_POLL_MILLIS} ms, change-log rows kept one hour, a random node id.
   */
  public static final class Builder {
    static final long DEFAULT_POLL_MILLIS = 100;
    private final DataSource dataSource;
    private boolean migrateSchema;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private Duration changeRetention = DEFAULT_CHANGE_RETENTION;
    private String nodeId = UUID.randomUUID().toString();

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Creates the tables (and the initial default pool) if they are missing, and applies the schema
     * versions the database lacks (from any earlier version, including 0.1's), in one transaction
     * that nodes starting together take turns at. Off by default: the store then checks the version
     * and refuses to start on an outdated schema, naming the files to apply.
     */
    public Builder migrateSchema(boolean migrate) {
      this.migrateSchema = migrate;
      return this;
    }

    /** The same as {@link #migrateSchema} (its name in 0.1). */
    public Builder createSchemaIfMissing(boolean create) {
      return migrateSchema(create);
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

    /**
     * The id written into the change log (for people reading it). Random by default. Not the node
     * id leases carry: that is the resolver's ({@code WorkerPools.Builder#nodeId}).
     */
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
     * @throws ConfigurationException if the tables are missing or at another schema version and
     *     {@link #migrateSchema} is off
     */
    public JdbcInfrastructureStore build() {
      return new JdbcInfrastructureStore(this);
    }
  }
}
