package io.workerpools.benchmarks;

import io.workerpools.jdbc.JdbcInfrastructureStore;
import io.workerpools.jdbc.PostgresCluster;
import io.workerpools.jdbc.TestPools;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Lease acquire + release round trips: through PostgreSQL with the JDBC store (one node; four
 * nodes, each its own store instance, contending for one pool) beside the in-memory store in the
 * same run, and the {@code SELECT ... FOR UPDATE SKIP LOCKED} alternative to the store's
 * conditional {@code UPDATE}, written as the same single statement over a table of one row per
 * lease slot.
 *
 * <p>The pool holds 4 workers with a cap of 1 each; every round trip picks a random worker and,
 * when the cap refuses, another one until it gets a lease, then releases it. The store gets a
 * pooled data source (HikariCP through {@link TestPools}, from store-jdbc's test-jar), as a host
 * would give it. The server is a throwaway cluster on the same 2 cores ({@link PostgresCluster},
 * the store-jdbc tests' own). Run: see {@code docs/bench-jdbc.md}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 4)
public class JdbcLeaseBenchmark {
  static final PoolId POOL = PoolId.of("bench");
  static final int WORKERS = 4;
  static final WorkerId[] IDS = new WorkerId[WORKERS];
  static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  static final Instant LATER = NOW.plusSeconds(3600);

  static {
    for (int i = 0; i < WORKERS; i++) {
      IDS[i] = WorkerId.of("w" + i);
    }
  }

  static Infrastructure infrastructure() {
    List<Worker> workers = new ArrayList<>();
    for (int i = 0; i < WORKERS; i++) {
      workers.add(
          Worker.builder("w" + i)
              .endpoint(Endpoint.of("ssh", "w" + i + ":22"))
              .pool(POOL)
              .maxConcurrentSteps(1)
              .build());
    }
    return Infrastructure.of(
        List.of(Infrastructure.initial().defaultPoolValue(), new WorkerPool(POOL, "Bench", "")),
        workers,
        Infrastructure.DEFAULT_POOL_ID,
        true);
  }

  /** The database: a throwaway cluster, the store's tables and a slot table for SKIP LOCKED. */
  @State(Scope.Benchmark)
  public static class Db {
    PostgresCluster cluster;
    String database;
    DataSource raw;

    @Setup(Level.Trial)
    public void start() throws Exception {
      cluster = PostgresCluster.startNew();
      database = cluster.createDatabase();
      raw = cluster.dataSource(database);
      try (JdbcInfrastructureStore s =
          JdbcInfrastructureStore.builder(raw).createSchemaIfMissing(true).build()) {
        s.replaceInfrastructure(infrastructure());
      }
      cluster.execute(
          database,
          "CREATE TABLE wp_bench_slots (worker_id text NOT NULL, slot integer NOT NULL,"
              + " lease_id text, PRIMARY KEY (worker_id, slot))");
      cluster.execute(database, "CREATE INDEX ON wp_bench_slots (lease_id)");
      cluster.execute(
          database,
          "CREATE TABLE wp_bench_floor (worker_id text PRIMARY KEY, active integer NOT NULL,"
              + " cap integer NOT NULL)");
      cluster.execute(database, "INSERT INTO wp_bench_floor SELECT id, 0, 1 FROM wp_workers");
      cluster.execute(database, "INSERT INTO wp_bench_slots SELECT id, 0, NULL FROM wp_workers");
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
      TestPools.closeAll();
      cluster.close();
    }
  }

  /** One host node: its own store (and poll thread) over its own connection pool. */
  @State(Scope.Thread)
  public static class Node {
    DataSource pool;
    JdbcInfrastructureStore store;
    String holder;
    long seq;

    @Setup(Level.Trial)
    public void open(Db db) {
      pool = TestPools.of(db.raw);
      holder = "node-" + Thread.currentThread().getId();
      store = JdbcInfrastructureStore.builder(pool).nodeId(holder).build();
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
      store.close();
    }
  }

  /** The in-memory baseline, one store shared by the benchmark's threads. */
  @State(Scope.Benchmark)
  public static class Memory {
    final InMemoryInfrastructureStore store = new InMemoryInfrastructureStore(infrastructure());
  }

  /** Lease ids for the in-memory baseline. */
  @State(Scope.Thread)
  public static class Ids {
    final String holder = "node-" + Thread.currentThread().getId();
    long seq;
  }

  static String roundTrip(InfrastructureStore s, String holder, long seq) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int w = random.nextInt(WORKERS);
    for (int attempt = 0; ; attempt++) {
      String id = holder + "-" + seq + "-" + attempt;
      LeaseRecord c =
          new LeaseRecord(id, IDS[(w + attempt) % WORKERS], POOL, holder, "s", NOW, LATER);
      if (s.tryAcquireLease(c).isPresent()) {
        if (!s.releaseLease(id)) {
          throw new IllegalStateException("lease " + id + " was gone at release");
        }
        return id;
      }
    }
  }

  @Benchmark
  @Threads(1)
  public String memory1Node(Memory m, Ids ids) {
    return roundTrip(m.store, ids.holder, ids.seq++);
  }

  @Benchmark
  @Threads(4)
  public String memory4Threads(Memory m, Ids ids) {
    return roundTrip(m.store, ids.holder, ids.seq++);
  }

  @Benchmark
  @Threads(1)
  public String jdbcUpdate1Node(Node n) {
    return roundTrip(n.store, n.holder, n.seq++);
  }

  @Benchmark
  @Threads(4)
  public String jdbcUpdate4Nodes(Node n) {
    return roundTrip(n.store, n.holder, n.seq++);
  }

  /**
   * The floor of issue 24's ratio: what a lease needs at the database's minimum, one conditional
   * {@code UPDATE} to grant (a counter under its cap) and one to release, with the store's round
   * trip shape (a random worker of 4 capped at 1, the next on refusal), on the same pools.
   */
  @Benchmark
  @Threads(1)
  public int jdbcFloorUpdates1Node(Node n) throws SQLException {
    return Floor.roundTrip(n.pool);
  }

  @Benchmark
  @Threads(4)
  public int jdbcFloorUpdates4Nodes(Node n) throws SQLException {
    return Floor.roundTrip(n.pool);
  }

  /** The two bare statements. */
  static final class Floor {
    static final String GRANT =
        "UPDATE wp_bench_floor SET active = active + 1 WHERE worker_id = ? AND active < cap";
    static final String RELEASE =
        "UPDATE wp_bench_floor SET active = active - 1 WHERE worker_id = ? AND active > 0";

    private Floor() {}

    static int roundTrip(DataSource ds) throws SQLException {
      int w = ThreadLocalRandom.current().nextInt(WORKERS);
      for (int attempt = 0; ; attempt++) {
        String worker = IDS[(w + attempt) % WORKERS].value();
        if (run(ds, GRANT, worker) == 1) {
          if (run(ds, RELEASE, worker) != 1) {
            throw new IllegalStateException("no slot to give back on " + worker);
          }
          return attempt;
        }
      }
    }

    private static int run(DataSource ds, String sql, String worker) throws SQLException {
      try (Connection c = ds.getConnection();
          PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, worker);
        return ps.executeUpdate();
      }
    }
  }

  /** The floor: two trivial statements (a round trip is two), same pool, same server. */
  @Benchmark
  @Threads(1)
  public int jdbcFloorTwoSelect1(Node n) throws SQLException {
    int sum = 0;
    for (int i = 0; i < 2; i++) {
      try (Connection c = n.pool.getConnection();
          PreparedStatement ps = c.prepareStatement("SELECT 1");
          var rs = ps.executeQuery()) {
        rs.next();
        sum += rs.getInt(1);
      }
    }
    return sum;
  }

  @Benchmark
  @Threads(1)
  public String jdbcSkipLocked1Node(Node n) throws SQLException {
    return SkipLocked.roundTrip(n.pool, n.holder, n.seq++);
  }

  @Benchmark
  @Threads(4)
  public String jdbcSkipLocked4Nodes(Node n) throws SQLException {
    return SkipLocked.roundTrip(n.pool, n.holder, n.seq++);
  }

  /** The alternative: claim a free slot row with FOR UPDATE SKIP LOCKED, in one statement. */
  static final class SkipLocked {
    static final String ACQUIRE =
        "WITH slot AS ("
            + " SELECT b.worker_id, b.slot FROM wp_bench_slots b"
            + " JOIN wp_workers w ON w.id = b.worker_id"
            + " JOIN wp_worker_state s ON s.worker_id = b.worker_id"
            + " WHERE b.worker_id = ? AND b.lease_id IS NULL AND w.enabled AND NOT s.draining"
            + " LIMIT 1 FOR UPDATE OF b SKIP LOCKED),"
            + " taken AS (UPDATE wp_bench_slots b SET lease_id = ? FROM slot"
            + " WHERE b.worker_id = slot.worker_id AND b.slot = slot.slot RETURNING b.worker_id)"
            + " INSERT INTO wp_leases (lease_id, worker_id, pool_id, holder, step_id,"
            + " acquired_at, expires_at)"
            + " SELECT ?, taken.worker_id, ?, ?, 's', clock_timestamp(),"
            + " clock_timestamp() + interval '1 hour' FROM taken";
    static final String RELEASE =
        "WITH gone AS (DELETE FROM wp_leases WHERE lease_id = ? RETURNING lease_id)"
            + " UPDATE wp_bench_slots b SET lease_id = NULL FROM gone WHERE b.lease_id = gone.lease_id";

    private SkipLocked() {}

    static String roundTrip(DataSource ds, String holder, long seq) throws SQLException {
      int w = ThreadLocalRandom.current().nextInt(WORKERS);
      for (int attempt = 0; ; attempt++) {
        String id = holder + "-" + seq + "-" + attempt;
        int got;
        try (Connection c = ds.getConnection();
            PreparedStatement ps = c.prepareStatement(ACQUIRE)) {
          ps.setString(1, IDS[(w + attempt) % WORKERS].value());
          ps.setString(2, id);
          ps.setString(3, id);
          ps.setString(4, POOL.value());
          ps.setString(5, holder);
          got = ps.executeUpdate();
        }
        if (got == 1) {
          try (Connection c = ds.getConnection();
              PreparedStatement ps = c.prepareStatement(RELEASE)) {
            ps.setString(1, id);
            if (ps.executeUpdate() != 1) {
              throw new IllegalStateException("lease " + id + " was gone at release");
            }
          }
          return id;
        }
      }
    }
  }
}
