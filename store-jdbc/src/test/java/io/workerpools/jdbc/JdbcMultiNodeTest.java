package io.workerpools.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.StoreEvent;
import io.workerpools.testing.Await;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Several store instances (host nodes) on one PostgreSQL database. */
@ExtendWith(PostgresExtension.class)
class JdbcMultiNodeTest {
  static final PoolId POOL = PoolId.of("shared");

  static Worker worker(String id, int cap) {
    return Worker.builder(id)
        .endpoint(Endpoint.of("ssh", id + ":22"))
        .pool(POOL)
        .maxConcurrentSteps(cap)
        .build();
  }

  @ParameterizedTest(name = "{0} nodes")
  @ValueSource(ints = {2, 4})
  void nodesHammeringOnePoolNeverExceedACapAndLoseNoLease(int nodes, TestDatabase db)
      throws Exception {
    List<JdbcInfrastructureStore> stores = new ArrayList<>();
    List<Map<String, Integer>> countsSeen = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(nodes * 2);
    try {
      for (int n = 0; n < nodes; n++) {
        JdbcInfrastructureStore s = db.newStore("node-" + n);
        Map<String, Integer> counts = new ConcurrentHashMap<>();
        s.subscribe(
            e -> {
              if (e instanceof StoreEvent.LeaseAcquired a) {
                counts.merge(a.lease().worker().value(), 1, Integer::sum);
              } else if (e instanceof StoreEvent.LeaseEnded l) {
                counts.merge(l.lease().worker().value(), -1, Integer::sum);
              }
            });
        stores.add(s);
        countsSeen.add(counts);
      }
      stores.get(0).putPool(new WorkerPool(POOL, "Shared", ""));
      stores.get(0).putWorker(worker("w1", 1));
      stores.get(0).putWorker(worker("w2", 2));
      for (JdbcInfrastructureStore s : stores) {
        Await.until("every node sees both workers", () -> s.infrastructure().workers().size() == 2);
      }
      List<LeaseWitness.Held> held = new CopyOnWriteArrayList<>();
      List<Future<Hammer.Result>> runs = new ArrayList<>();
      for (int n = 0; n < nodes; n++) {
        for (int t = 0; t < 2; t++) {
          JdbcInfrastructureStore s = stores.get(n);
          String holder = "node-" + n;
          runs.add(
              pool.submit(
                  () ->
                      Hammer.run(s, holder, POOL, List.of("w1", "w2"), 2, 240 / nodes, held::add)));
        }
      }
      int granted = 0;
      int refused = 0;
      for (Future<Hammer.Result> f : runs) {
        Hammer.Result r = f.get(90, TimeUnit.SECONDS);
        assertThat(r.releasedFalse()).as("releases that found their lease gone").isZero();
        assertThat(r.releasedTrue()).isEqualTo(r.granted());
        granted += r.granted();
        refused += r.refused();
      }
      assertThat(granted).isEqualTo(held.size()).isPositive();
      assertThat(refused).as("the caps were actually contended").isPositive();
      Map<String, Integer> max = LeaseWitness.maxConcurrent(held);
      assertThat(max.getOrDefault("w1", 0)).isLessThanOrEqualTo(1);
      assertThat(max.getOrDefault("w2", 0)).isLessThanOrEqualTo(2);
      assertThat(stores.get(0).leases()).isEmpty();
      assertThat(activeCounters(db)).containsOnly(0);
      for (Map<String, Integer> counts : countsSeen) {
        Await.until(
            "every node's events net out to no lease held",
            () -> counts.values().stream().allMatch(v -> v == 0));
      }
    } finally {
      pool.shutdownNow();
      stores.forEach(JdbcInfrastructureStore::close);
    }
  }

  static List<Integer> activeCounters(TestDatabase db) throws SQLException {
    List<Integer> out = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT active_leases FROM wp_worker_state")) {
      while (rs.next()) {
        out.add(rs.getInt(1));
      }
    }
    return out;
  }

  @Test
  void aChangeOnOneNodeIsSeenByTheOther(TestDatabase db) {
    try (JdbcInfrastructureStore a = db.newStore("a");
        JdbcInfrastructureStore b = db.newStore("b")) {
      List<StoreEvent> seenByB = new CopyOnWriteArrayList<>();
      b.subscribe(seenByB::add);
      Worker w = worker("w1", 3);
      a.putPool(new WorkerPool(POOL, "Shared", ""));
      a.putWorker(w);
      Await.until(
          "b hears of the new worker", () -> seenByB.contains(new StoreEvent.WorkerPut(null, w)));
      assertThat(b.infrastructure().worker(w.id())).contains(w);

      Worker disabled = w.toBuilder().enabled(false).build();
      a.putWorker(disabled);
      HealthReport sick =
          HealthReport.of(HealthStatus.UNHEALTHY, Instant.now(), Duration.ZERO, "disk full");
      a.recordHealth(w.id(), sick);
      a.setDraining(w.id(), true);
      a.setDefaultPool(POOL);
      Await.until(
          "b hears of the default pool move",
          () -> seenByB.contains(new StoreEvent.DefaultPoolMoved(PoolId.of("default"), POOL)));
      assertThat(seenByB)
          .containsSubsequence(
              new StoreEvent.WorkerPut(w, disabled),
              new StoreEvent.HealthRecorded(w.id(), null, sick),
              new StoreEvent.DrainingChanged(w.id(), true),
              new StoreEvent.DefaultPoolMoved(PoolId.of("default"), POOL));
      assertThat(b.infrastructure()).isEqualTo(a.infrastructure());
      assertThat(b.health()).isEqualTo(Map.of(w.id(), sick));
      assertThat(b.draining()).containsExactly(w.id());

      // A change b makes on the state it learnt from a is checked against that state.
      b.setDraining(w.id(), false);
      b.putWorker(w);
      var lease = b.tryAcquireLease(StoreContract.claimIn(POOL, "w1", "b")).orElseThrow();
      List<StoreEvent> seenByA = new CopyOnWriteArrayList<>();
      a.subscribe(seenByA::add);
      b.releaseLease(lease.leaseId());
      var lease2 = b.tryAcquireLease(StoreContract.claimIn(POOL, "w1", "b")).orElseThrow();
      Await.until(
          "a hears of b's lease", () -> seenByA.contains(new StoreEvent.LeaseAcquired(lease2)));
      Await.until(
          "a sees w1 enabled again",
          () -> a.infrastructure().worker(w.id()).orElseThrow().enabled());
      b.releaseLease(lease2.leaseId());
      Await.until(
          "a hears b's lease end",
          () -> seenByA.contains(new StoreEvent.LeaseEnded(lease2, false)));
    }
  }

  @Test
  void aLeaseExpiredByAnotherNodeIsAnnouncedEndedOnTheNodeThatHeldIt(TestDatabase db) {
    try (JdbcInfrastructureStore holder = db.newStore("holder");
        JdbcInfrastructureStore reaper = db.newStore("reaper")) {
      holder.putPool(new WorkerPool(POOL, "Shared", ""));
      holder.putWorker(worker("w1", 1));
      List<StoreEvent> seen = new CopyOnWriteArrayList<>();
      holder.subscribe(seen::add);
      Instant now = Instant.now();
      var lease =
          holder
              .tryAcquireLease(
                  new io.workerpools.store.LeaseRecord(
                      "stale", WorkerId.of("w1"), POOL, "holder", "s", now, now.minusSeconds(1)))
              .orElseThrow();
      Await.until("the reaper knows w1", () -> reaper.infrastructure().workers().size() == 1);
      assertThat(reaper.expireLeases(now)).containsExactly(lease);
      Await.until(
          "the holder hears its lease ended",
          () -> seen.contains(new StoreEvent.LeaseEnded(lease, true)));
      assertThat(holder.releaseLease("stale")).isFalse();
      assertThat(seen).filteredOn(e -> e instanceof StoreEvent.LeaseEnded).hasSize(1);
    }
  }

  @Test
  void resolversOnTwoNodesShareCapsAndAReleaseOnOneWakesAWaiterOnTheOther(TestDatabase db)
      throws Exception {
    try (JdbcInfrastructureStore a = db.newStore("a");
        JdbcInfrastructureStore b = db.newStore("b")) {
      a.putPool(new WorkerPool(POOL, "Shared", ""));
      a.putWorker(worker("w1", 1));
      a.recordHealth(
          WorkerId.of("w1"),
          HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
      Await.until("b sees w1 healthy", () -> b.health().containsKey(WorkerId.of("w1")));
      try (WorkerResolver ra = WorkerResolver.builder(a).nodeId("node-a").build();
          WorkerResolver rb = WorkerResolver.builder(b).nodeId("node-b").build()) {
        WorkerLease held = ra.acquire(StepRequirements.inPool("shared"), "step-a");
        Await.until("b's resolver counts a's lease", () -> rb.activeLeases(WorkerId.of("w1")) == 1);
        var waiting =
            rb.acquire(StepRequirements.inPool("shared"), "step-b", Duration.ofSeconds(20));
        assertThat(waiting).isNotDone();
        held.close();
        WorkerLease got = waiting.get(20, TimeUnit.SECONDS);
        assertThat(got.worker().id()).isEqualTo(WorkerId.of("w1"));
        assertThat(a.leases()).extracting(r -> r.holder()).containsExactly("node-b");
        got.close();
      }
    }
  }
}
