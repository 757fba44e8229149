package io.workerpools.jdbc;

import static io.workerpools.jdbc.JdbcMultiNodeTest.POOL;
import static io.workerpools.jdbc.JdbcMultiNodeTest.worker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.NoEligibleWorkerException;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.LeaseRecord;
import io.workerpools.testing.Await;
import io.workerpools.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Lease time is the database's (issue 24, part 3): a node whose clock is off by more than the TTL,
 * either way, neither over-grants a capped worker nor expires another node's live lease, and its
 * own leases live one TTL by the database's clock.
 */
@ExtendWith(PostgresExtension.class)
class JdbcDatabaseClockTest {
  private static final Duration TTL = Duration.ofSeconds(10);

  /** The system clock moved by a fixed amount (a node whose clock is wrong). */
  record SkewedClock(Duration skew) implements TimeSource {
    @Override
    public Instant now() {
      return Instant.now().plus(skew);
    }

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }
  }

  @ParameterizedTest(name = "skew {0} s")
  @ValueSource(longs = {45, 3600, -45, -3600})
  void aNodeWhoseClockIsOffByMoreThanTheTtlNeitherOverGrantsNorExpiresLiveLeases(
      long skewSeconds, TestDatabase db) {
    try (JdbcInfrastructureStore a = db.newStore("honest");
        JdbcInfrastructureStore b = db.newStore("skewed")) {
      a.putPool(new WorkerPool(POOL, "Shared", ""));
      a.putWorker(worker("w1", 1));
      a.putWorker(worker("w2", 1));
      for (String w : List.of("w1", "w2")) {
        a.recordHealth(
            WorkerId.of(w),
            HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
      }
      Await.until("the skewed node sees both healthy", () -> b.health().size() == 2);
      try (WorkerResolver honest = resolver(a, "honest", Duration.ZERO);
          WorkerResolver skewed = resolver(b, "skewed", Duration.ofSeconds(skewSeconds))) {
        WorkerLease h = honest.acquire(StepRequirements.inPool(POOL.value()), "h");
        WorkerLease s = skewed.acquire(StepRequirements.inPool(POOL.value()), "s");
        assertThat(s.worker().id()).isNotEqualTo(h.worker().id());
        // Both run their maintenance: renew their own, expire what is past by the database's clock.
        skewed.maintainNow();
        honest.maintainNow();
        skewed.maintainNow();
        List<LeaseRecord> held = a.leases();
        assertThat(held)
            .as("no live lease expired by either node")
            .extracting(LeaseRecord::stepId)
            .containsExactlyInAnyOrder("h", "s");
        for (LeaseRecord l : held) {
          Duration left = Duration.between(l.acquiredAt(), l.expiresAt());
          assertThat(left)
              .as("%s lives one TTL by the database's clock", l)
              .isLessThan(TTL.plusSeconds(5));
          assertThat(left).isPositive();
        }
        assertThatThrownBy(() -> skewed.acquire(StepRequirements.inPool(POOL.value()), "s2"))
            .as("both workers are at their cap of 1: nothing over-granted")
            .isInstanceOf(NoEligibleWorkerException.class);
        assertThatThrownBy(() -> honest.acquire(StepRequirements.inPool(POOL.value()), "h2"))
            .isInstanceOf(NoEligibleWorkerException.class);
        assertThat(a.leases()).hasSize(2);
        h.close();
        s.close();
      }
      assertThat(a.leases()).isEmpty();
    }
  }

  @Test
  void theExpiryACallerPassesIsNotTheDatabasesIdeaOfNow(TestDatabase db) {
    try (JdbcInfrastructureStore a = db.newStore("a")) {
      a.putPool(new WorkerPool(POOL, "Shared", ""));
      a.putWorker(worker("w1", 1));
      Instant now = Instant.now();
      LeaseRecord l =
          a.tryAcquireLease(
                  new LeaseRecord("l1", WorkerId.of("w1"), POOL, "n", "s", now, now.plus(TTL)))
              .orElseThrow();
      assertThat(a.expireLeases(now.plus(Duration.ofDays(365)))).isEmpty();
      assertThat(a.renewLeases("n", now.minus(Duration.ofDays(365)), TTL)).isEqualTo(1);
      assertThat(a.leases().get(0).expiresAt()).isAfterOrEqualTo(l.expiresAt());
    }
  }

  private static WorkerResolver resolver(JdbcInfrastructureStore s, String id, Duration skew) {
    return WorkerResolver.builder(s)
        .nodeId(id)
        .leaseTtl(TTL)
        .timeSource(new SkewedClock(skew))
        .automaticMaintenance(false)
        .build();
  }
}
