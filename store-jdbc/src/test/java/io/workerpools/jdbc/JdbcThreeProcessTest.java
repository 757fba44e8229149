package io.workerpools.jdbc;

import static io.workerpools.jdbc.JdbcTwoProcessTest.POOL;
import static io.workerpools.jdbc.JdbcTwoProcessTest.worker;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.jdbc.JdbcTwoProcessTest.Child;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.LeaseRecord;
import io.workerpools.testing.Await;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Three host nodes as separate JVMs, each a {@code WorkerResolver} on its own JDBC store over one
 * real PostgreSQL (issue 24's proof, at the resolver level): one holds a capped worker and is
 * killed with SIGKILL; one runs with its clock an hour ahead (far more than the 3 s TTL). The dead
 * node's leases expire by the database's clock and nobody else's; the worker's capacity comes back;
 * no worker is ever above its cap (a ledger of holding intervals across the JVMs, and each holder's
 * read of the lease table); no live lease is expired under its holder.
 */
@ExtendWith(PostgresExtension.class)
class JdbcThreeProcessTest {
  private static final String TTL_SECONDS = "3";
  private static final int ITERATIONS = 30;
  private static final PoolId SOLO = PoolId.of("solo");

  @Test
  void aKilledNodesLeasesExpireAloneAndASkewedNodeOverGrantsNothing(TestDatabase db)
      throws Exception {
    try (JdbcInfrastructureStore store = db.newStore("observer")) {
      store.putPool(new WorkerPool(POOL, "Shared", ""));
      Map<String, Integer> caps = Map.of("w1", 1, "w2", 1, "w3", 2);
      store.putPool(new WorkerPool(SOLO, "w1 alone", ""));
      caps.forEach(
          (w, cap) ->
              store.putWorker(
                  w.equals("w1") ? worker(w, cap).toBuilder().pool(SOLO).build() : worker(w, cap)));
      caps.keySet()
          .forEach(
              w ->
                  store.recordHealth(
                      WorkerId.of(w),
                      HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, "")));
      String url = db.url();
      try (Child doomed =
          new Child("resolve-hold", url, SOLO.value(), "w1", "0", "doomed", TTL_SECONDS, "0")) {
        Await.until(
            "the doomed node holds w1", Duration.ofSeconds(60), () -> doomed.printed("HOLDING"));
        LeaseRecord first = only(store, "doomed");
        assertThat(first.worker()).isEqualTo(WorkerId.of("w1"));
        Await.until(
            "the doomed node renews its lease while alive",
            Duration.ofSeconds(30),
            () -> only(store, "doomed").expiresAt().isAfter(first.expiresAt()));
        try (Child honest =
                new Child(
                    "resolve",
                    url,
                    "shared",
                    "-",
                    "" + ITERATIONS,
                    "honest",
                    TTL_SECONDS,
                    "0",
                    "w1");
            Child skewed =
                new Child(
                    "resolve",
                    url,
                    "shared",
                    "-",
                    "" + ITERATIONS,
                    "skewed",
                    TTL_SECONDS,
                    "3600")) {
          Await.until(
              "both nodes run",
              Duration.ofSeconds(60),
              () -> honest.printed("HELD") && skewed.printed("HELD"));
          assertThat(store.leases())
              .as("the doomed node's lease outlived the skewed node's maintenance")
              .anyMatch(l -> l.holder().equals("doomed"));
          doomed.process.destroyForcibly(); // SIGKILL
          assertThat(doomed.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
          Await.until(
              "the dead node's lease expires",
              Duration.ofSeconds(60),
              () -> store.leases().stream().noneMatch(l -> l.holder().equals("doomed")));
          Await.until(
              "both nodes finish",
              Duration.ofSeconds(120),
              () -> honest.printed("DONE") && skewed.printed("DONE"));
          List<LeaseWitness.Held> held = new ArrayList<>();
          for (Child c : List.of(honest, skewed)) {
            String[] done = c.line("DONE").split(" ");
            assertThat(Integer.parseInt(done[1]))
                .as("granted")
                .isGreaterThanOrEqualTo(2 * ITERATIONS);
            assertThat(done[2]).as("leases expired under a live holder").isEqualTo("0");
            assertThat(done[3]).as("reads of the table above a cap").isEqualTo("0");
            c.lines.stream()
                .filter(l -> l.startsWith("HELD "))
                .map(LeaseWitness.Held::parse)
                .forEach(held::add);
          }
          assertThat(held.size()).isGreaterThanOrEqualTo(4 * ITERATIONS);
          Map<String, Integer> most = LeaseWitness.maxConcurrent(held);
          caps.forEach(
              (w, cap) -> assertThat(most.getOrDefault(w, 0)).as(w).isLessThanOrEqualTo(cap));
          assertThat(held)
              .as("w1's capacity came back after its holder died")
              .anyMatch(h -> h.worker().equals("w1"));
        }
      }
      Await.until("every lease released", Duration.ofSeconds(30), () -> store.leases().isEmpty());
      assertThat(JdbcMultiNodeTest.activeCounters(db)).containsOnly(0);
    }
  }

  private static LeaseRecord only(JdbcInfrastructureStore s, String holder) {
    List<LeaseRecord> mine = s.leases().stream().filter(l -> l.holder().equals(holder)).toList();
    assertThat(mine).hasSize(1);
    return mine.get(0);
  }
}
