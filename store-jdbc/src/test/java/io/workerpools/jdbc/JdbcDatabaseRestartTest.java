package io.workerpools.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.model.Endpoint;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.StoreEvent;
import io.workerpools.store.StoreUnavailableException;
import io.workerpools.testing.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The database goes away mid-run and comes back: operations fail with a clear error meanwhile and
 * work again by themselves afterwards; listeners get a Resync. Uses a cluster of its own, since it
 * stops it.
 */
class JdbcDatabaseRestartTest {
  static final PoolId POOL = PoolId.of("p");
  private static PostgresCluster cluster;
  private static DataSource ds;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = PostgresCluster.startNew();
    ds = cluster.dataSource(cluster.createDatabase());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void operationsFailClearlyWhileTheDatabaseIsDownAndRecoverByThemselves() throws Exception {
    try (JdbcInfrastructureStore a =
            JdbcInfrastructureStore.builder(ds)
                .createSchemaIfMissing(true)
                .pollInterval(Duration.ofMillis(20))
                .nodeId("a")
                .build();
        JdbcInfrastructureStore b =
            JdbcInfrastructureStore.builder(ds)
                .pollInterval(Duration.ofMillis(20))
                .nodeId("b")
                .build()) {
      List<StoreEvent> seenByB = new CopyOnWriteArrayList<>();
      b.subscribe(seenByB::add);
      a.putPool(new WorkerPool(POOL, "P", ""));
      Worker w =
          Worker.builder("w1")
              .endpoint(Endpoint.of("ssh", "h:22"))
              .pool(POOL)
              .maxConcurrentSteps(1)
              .build();
      a.putWorker(w);
      var before = a.tryAcquireLease(StoreContract.claimIn(POOL, "w1", "a")).orElseThrow();
      Await.until(
          "b has seen the worker before the outage",
          () -> b.infrastructure().worker(w.id()).filter(w::equals).isPresent());

      cluster.stop();
      assertThatThrownBy(() -> a.tryAcquireLease(StoreContract.claimIn(POOL, "w1", "a")))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("could not acquire a lease on worker w1")
          .hasMessageContaining("works again by itself");
      assertThatThrownBy(() -> a.putWorker(w.toBuilder().enabled(false).build()))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("could not put worker w1");
      assertThatThrownBy(() -> a.releaseLease(before.leaseId()))
          .isInstanceOf(StoreUnavailableException.class);
      // Resolution keeps working from the last known configuration.
      assertThat(b.infrastructure().worker(w.id())).contains(w);

      cluster.start();
      Await.until(
          "b's poller notices the outage and resyncs",
          Duration.ofSeconds(20),
          () -> seenByB.contains(new StoreEvent.Resync()));
      // Nothing was applied while it was down, and everything works again.
      assertThat(a.leases()).containsExactly(before);
      assertThat(a.releaseLease(before.leaseId())).isTrue();
      assertThat(a.tryAcquireLease(StoreContract.claimIn(POOL, "w1", "a"))).isPresent();
      Worker disabled = w.toBuilder().enabled(false).build();
      a.putWorker(disabled);
      Await.until(
          "b sees a change made after the restart",
          () -> b.infrastructure().worker(w.id()).orElseThrow().equals(disabled));
    }
  }

  @Test
  void aStoreCannotStartWithoutTheDatabaseAndSaysSo() throws Exception {
    DataSource nowhere = cluster.dataSource("no_such_database");
    assertThatThrownBy(() -> JdbcInfrastructureStore.builder(nowhere).build())
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("no_such_database");
  }
}
