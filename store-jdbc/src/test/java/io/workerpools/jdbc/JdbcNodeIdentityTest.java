package io.workerpools.jdbc;

import static io.workerpools.jdbc.JdbcMultiNodeTest.POOL;
import static io.workerpools.jdbc.JdbcMultiNodeTest.worker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.WorkerPools;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.NodeIdInUseException;
import io.workerpools.testing.Await;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Node identity (issue 24, part 2): every node gets its own id unless the host sets one, a second
 * live node with one id is refused, and a node renews its own leases only, so a dead node's leases
 * come back one TTL after it died while the other nodes keep theirs.
 */
@ExtendWith(PostgresExtension.class)
class JdbcNodeIdentityTest {
  private static final Duration TTL = Duration.ofSeconds(1);

  @Test
  void aDeadNodesLeaseExpiresAfterTheTtlWhileAnotherNodeKeepsRenewingItsOwn(TestDatabase db) {
    try (JdbcInfrastructureStore a = db.newStore("store-a");
        JdbcInfrastructureStore b = db.newStore("store-b")) {
      a.putPool(new WorkerPool(POOL, "Shared", ""));
      a.putWorker(worker("w1", 1));
      a.putWorker(worker("w2", 1));
      Await.until("b sees both workers", () -> b.infrastructure().workers().size() == 2);
      WorkerPools nodeB = facade(b);
      try {
        WorkerPools nodeA = facade(a);
        String idA = nodeA.resolver().nodeId();
        String idB = nodeB.resolver().nodeId();
        assertThat(idA).as("default node ids").isNotEqualTo(idB).startsWith("node-");
        LeaseRecord deadLease = a.tryAcquireLease(claim("w1", idA)).orElseThrow();
        LeaseRecord liveLease = b.tryAcquireLease(claim("w2", idB)).orElseThrow();
        // Node A dies: nothing renews its lease any more (close stops its timer, as a kill would).
        nodeA.close();
        Await.until(
            "node A's lease expires (node B's maintenance ends it by the database's clock)",
            Duration.ofSeconds(30),
            () -> b.leases().stream().noneMatch(l -> l.leaseId().equals(deadLease.leaseId())));
        LeaseRecord renewed = lease(b, liveLease.leaseId());
        assertThat(renewed.expiresAt())
            .as("node B renewed its own lease past its first expiry")
            .isAfter(liveLease.expiresAt());
        assertThat(b.tryAcquireLease(claim("w1", idB)))
            .as("the dead node's worker has its capacity back")
            .isPresent();
      } finally {
        nodeB.close();
      }
    }
  }

  @Test
  void aSecondLiveNodeWithTheSameIdIsRefusedNamingTheIdAndTheFix(TestDatabase db) {
    try (JdbcInfrastructureStore a = db.newStore("store-a");
        JdbcInfrastructureStore b = db.newStore("store-b")) {
      WorkerPools first = WorkerPools.builder().sharedStore(a).nodeId("host-1").build();
      try {
        assertThatThrownBy(() -> WorkerPools.builder().sharedStore(b).nodeId("host-1").build())
            .isInstanceOf(NodeIdInUseException.class)
            .hasMessageContaining("'host-1'")
            .hasMessageContaining("by the database's clock")
            .hasMessageContaining("leave nodeId unset");
      } finally {
        first.close();
      }
      // A node that stopped cleanly (holding no lease) frees its id at once.
      WorkerPools.builder().sharedStore(b).nodeId("host-1").build().close();
    }
  }

  @Test
  void aRestartedNodeWithTheSameIdNeverRevivesItsDeadInstancesExpiredLeases(TestDatabase db) {
    try (JdbcInfrastructureStore a = db.newStore("store-a")) {
      a.putPool(new WorkerPool(POOL, "Shared", ""));
      a.putWorker(worker("w1", 1));
      Instant now = Instant.now();
      LeaseRecord dead =
          a.tryAcquireLease(
                  new LeaseRecord(
                      "dead", WorkerId.of("w1"), POOL, "host-1", "s", now, now.plusNanos(1_000)))
              .orElseThrow();
      // The restarted node renews the id's leases: the expired one is not among them.
      assertThat(a.renewLeases("host-1", now, Duration.ofHours(1))).isZero();
      assertThat(lease(a, "dead").expiresAt()).isEqualTo(dead.expiresAt());
      assertThat(a.expireLeases(now)).containsExactly(dead);
    }
  }

  private static WorkerPools facade(JdbcInfrastructureStore store) {
    return WorkerPools.builder().sharedStore(store).leaseTtl(TTL).build();
  }

  private static LeaseRecord claim(String worker, String holder) {
    Instant now = Instant.now();
    return new LeaseRecord(
        UUID.randomUUID().toString(), WorkerId.of(worker), POOL, holder, "s", now, now.plus(TTL));
  }

  private static LeaseRecord lease(JdbcInfrastructureStore s, String id) {
    return s.leases().stream().filter(l -> l.leaseId().equals(id)).findFirst().orElseThrow();
  }
}
