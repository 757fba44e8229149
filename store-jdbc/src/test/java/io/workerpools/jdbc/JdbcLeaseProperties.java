package io.workerpools.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The lease invariants of the in-memory store, checked on the JDBC store by running the same random
 * operation sequences against both and comparing every answer.
 */
class JdbcLeaseProperties {
  static final Instant T0 = Instant.parse("2026-03-04T05:06:07Z");
  static final PoolId POOL = PoolId.of("p");
  static final List<Integer> CAPS = List.of(1, 2, 3);

  /**
   * Lease time differs between the two stores (the JDBC store's is the database's clock), so each
   * lease is either expired at once (a TTL of one microsecond: past by the next statement, and
   * before {@link #LATER} for the in-memory store) or outlives the run (an hour).
   */
  static final Duration SHORT = Duration.ofNanos(1_000);

  static final Duration LONG = Duration.ofHours(1);

  /** The "now" the in-memory store is given: after every SHORT lease, before every LONG one. */
  static final Instant LATER = T0.plusSeconds(1);

  private static TestDatabase db;
  private static JdbcInfrastructureStore jdbc;

  /** One operation: a kind and an argument that picks its target. */
  record Op(int kind, int arg) {}

  @BeforeContainer
  static void openStore() {
    PostgresCluster cluster = PostgresCluster.shared();
    String name = cluster.createDatabase();
    db = new TestDatabase(cluster, name, cluster.dataSource(name));
    jdbc = db.newStore("props");
    jdbc.replaceInfrastructure(infrastructure());
  }

  @AfterContainer
  static void closeStore() {
    if (jdbc != null) {
      jdbc.close();
    }
  }

  static Infrastructure infrastructure() {
    List<Worker> workers = new ArrayList<>();
    for (int i = 0; i < CAPS.size(); i++) {
      workers.add(
          Worker.builder("w" + i)
              .endpoint(Endpoint.of("ssh", "h" + i + ":22"))
              .pool(POOL)
              .maxConcurrentSteps(CAPS.get(i))
              .build());
    }
    return Infrastructure.of(
        List.of(Infrastructure.initial().defaultPoolValue(), new WorkerPool(POOL, "P", "")),
        workers,
        Infrastructure.DEFAULT_POOL_ID,
        true);
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> op =
        Arbitraries.integers()
            .between(0, 9)
            .flatMap(
                k ->
                    Arbitraries.integers().between(0, 1000).map(a -> new Op(k < 5 ? 0 : k - 4, a)));
    return op.list().ofMinSize(1).ofMaxSize(40);
  }

  @Property(tries = 15)
  void theJdbcStoreAnswersEveryLeaseOperationAsTheInMemoryStoreDoesAndNeverExceedsACap(
      @ForAll("ops") List<Op> ops) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute("DELETE FROM wp_leases");
      st.execute("UPDATE wp_worker_state SET active_leases = 0");
    }
    InfrastructureStore memory = new InMemoryInfrastructureStore(infrastructure());
    String run = UUID.randomUUID().toString();
    List<String> granted = new ArrayList<>();
    Map<String, Integer> releasedTrue = new HashMap<>();
    int n = 0;
    for (Op op : ops) {
      String step = "op " + n + " " + op;
      switch (op.kind()) {
        case 0 -> {
          String worker = op.arg() % 4 == 3 ? "ghost" : "w" + op.arg() % 4;
          LeaseRecord claim =
              new LeaseRecord(
                  run + "-" + n,
                  WorkerId.of(worker),
                  POOL,
                  "h" + op.arg() % 2,
                  "s",
                  T0,
                  T0.plus(op.arg() % 2 == 0 ? SHORT : LONG));
          Optional<LeaseRecord> m = memory.tryAcquireLease(claim);
          Optional<LeaseRecord> j = jdbc.tryAcquireLease(claim);
          assertThat(j.map(JdbcLeaseProperties::timeless)).as(step).isEqualTo(m);
          m.ifPresent(r -> granted.add(r.leaseId()));
        }
        case 1 -> {
          if (!granted.isEmpty()) {
            String id = granted.get(op.arg() % granted.size());
            boolean m = memory.releaseLease(id);
            boolean j = jdbc.releaseLease(id);
            assertThat(j).as(step).isEqualTo(m);
            if (j) {
              releasedTrue.merge(id, 1, Integer::sum);
            }
          }
        }
        case 2 -> {
          Instant at = LATER;
          assertThat(ids(jdbc.expireLeases(at))).as(step).isEqualTo(ids(memory.expireLeases(at)));
        }
        case 3 -> {
          String holder = "h" + op.arg() % 2;
          assertThat(jdbc.renewLeases(holder, LATER, LONG))
              .as(step)
              .isEqualTo(memory.renewLeases(holder, LATER, LONG));
        }
        default -> {
          // four kinds only
        }
      }
      List<LeaseRecord> held = jdbc.leases();
      assertThat(timeless(held)).as(step).isEqualTo(timeless(memory.leases()));
      for (int i = 0; i < CAPS.size(); i++) {
        String w = "w" + i;
        assertThat(held.stream().filter(r -> r.worker().value().equals(w)).count())
            .as(step + ": leases on " + w)
            .isLessThanOrEqualTo(CAPS.get(i));
      }
      n++;
    }
    assertThat(releasedTrue.values()).as("true at most once per lease").allMatch(v -> v == 1);
  }

  /** A lease without its instants (the JDBC store stamps them by the database's clock). */
  private static LeaseRecord timeless(LeaseRecord r) {
    return r.withTimes(
        T0,
        T0.plus(
            Duration.between(r.acquiredAt(), r.expiresAt()).compareTo(Duration.ofMinutes(1)) > 0
                ? LONG
                : SHORT));
  }

  private static Set<LeaseRecord> timeless(List<LeaseRecord> records) {
    Set<LeaseRecord> out = new HashSet<>();
    records.forEach(r -> out.add(timeless(r)));
    return out;
  }

  private static Set<String> ids(List<LeaseRecord> records) {
    Set<String> out = new HashSet<>();
    records.forEach(r -> out.add(r.leaseId()));
    return out;
  }

  @Property(tries = 6)
  void theJdbcCounterAlwaysEqualsTheLeasesHeldOnEachWorker(@ForAll("ops") List<Op> ops)
      throws Exception {
    theJdbcStoreAnswersEveryLeaseOperationAsTheInMemoryStoreDoesAndNeverExceedsACap(ops);
    Map<String, Long> held = new HashMap<>();
    jdbc.leases().forEach(r -> held.merge(r.worker().value(), 1L, Long::sum));
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT worker_id, active_leases FROM wp_worker_state")) {
      while (rs.next()) {
        assertThat((long) rs.getInt(2))
            .as("counter of " + rs.getString(1))
            .isEqualTo(held.getOrDefault(rs.getString(1), 0L));
      }
    }
  }
}
