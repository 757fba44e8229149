package io.workerpools.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.testing.Await;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Checks beyond core's {@code InfrastructureStoreContract} that the JDBC store's encoding and its
 * separate lease counter could get wrong (exact instants, a removed worker's leases still
 * counting), run against the in-memory store and the JDBC store alike.
 */
abstract class StoreContract {
  static final Instant T0 = Instant.parse("2026-01-02T03:04:05.123456789Z");
  static final PoolId LINUX = PoolId.of("linux");

  protected InfrastructureStore store;
  protected final List<StoreEvent> events = new CopyOnWriteArrayList<>();

  /** A fresh store with the initial infrastructure. */
  protected abstract InfrastructureStore newStore();

  @BeforeEach
  void open() {
    store = newStore();
    store.subscribe(events::add);
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  static Worker worker(String id, int cap) {
    return Worker.builder(id)
        .endpoint(Endpoint.of("ssh", id + ".example:22", Map.of("user", "ci")))
        .pool(LINUX)
        .syntaxes(ScriptSyntax.BASH, ScriptSyntax.PYTHON)
        .maxConcurrentSteps(cap)
        .label("rack", "a1")
        .build();
  }

  static LeaseRecord claim(String worker, String holder, Instant expires) {
    return new LeaseRecord(
        UUID.randomUUID().toString(), WorkerId.of(worker), LINUX, holder, "step-1", T0, expires);
  }

  static LeaseRecord claimIn(PoolId pool, String worker, String holder) {
    Instant now = Instant.now();
    return new LeaseRecord(
        UUID.randomUUID().toString(),
        WorkerId.of(worker),
        pool,
        holder,
        "step",
        now,
        now.plusSeconds(60));
  }

  static LeaseRecord claim(String worker) {
    return claim(worker, "node-a", T0.plusSeconds(60));
  }

  void withLinuxPool(Worker... workers) {
    store.putPool(new WorkerPool(LINUX, "Linux", "build boxes"));
    for (Worker w : workers) {
      store.putWorker(w);
    }
  }

  void awaitEvent(StoreEvent e) {
    Await.until("the store announces " + e, () -> events.contains(e));
  }

  @Test
  void leaseRecordsReadBackExactlyAsGrantedAndKeepTheClaimsTtl() {
    withLinuxPool(worker("w1", 1));
    LeaseRecord c = claim("w1", "node-a", T0.plusNanos(987_654_321));
    LeaseRecord r = store.tryAcquireLease(c).orElseThrow();
    assertThat(r.withTimes(c.acquiredAt(), c.expiresAt())).isEqualTo(c);
    assertThat(Duration.between(r.acquiredAt(), r.expiresAt()).toNanos() / 1_000)
        .isEqualTo(Duration.between(c.acquiredAt(), c.expiresAt()).toNanos() / 1_000);
    assertThat(store.leases()).containsExactly(r);
  }

  @Test
  void replacingAWorkerKeepsItsRuntimeStateAndRemovingItKeepsItsLeases() {
    Worker w = worker("w1", 1);
    withLinuxPool(w);
    WorkerId id = w.id();
    HealthReport h = HealthReport.of(HealthStatus.HEALTHY, T0, Duration.ZERO, "");
    store.recordHealth(id, h);
    LeaseRecord lease = store.tryAcquireLease(claim("w1")).orElseThrow();
    store.setDraining(id, true);
    store.putWorker(w.toBuilder().name("renamed").build());
    assertThat(store.health()).containsEntry(id, h);
    assertThat(store.draining()).containsExactly(id);
    store.removeWorker(id);
    store.removeWorker(id);
    assertThat(store.health()).isEmpty();
    assertThat(store.draining()).isEmpty();
    assertThat(store.leases()).containsExactly(lease);
    awaitEvent(new StoreEvent.WorkerRemoved(w.toBuilder().name("renamed").build()));
    // Back again with its old lease still counted against its cap.
    store.putWorker(w);
    assertThat(store.tryAcquireLease(claim("w1"))).isEmpty();
    assertThat(store.releaseLease(lease.leaseId())).isTrue();
    assertThat(store.tryAcquireLease(claim("w1"))).isPresent();
  }

  @Test
  void replacingTheInfrastructureAnnouncesTheDifferenceAndKeepsLeases() {
    Worker keep = worker("keep", 1);
    Worker gone = worker("gone", 1);
    withLinuxPool(keep, gone);
    LeaseRecord lease = store.tryAcquireLease(claim("keep")).orElseThrow();
    WorkerPool win = WorkerPool.of("windows", "Windows");
    Worker fresh =
        Worker.builder("fresh")
            .endpoint(Endpoint.of("tentacle-listening", "https://w:10933"))
            .pool("windows")
            .syntaxes(ScriptSyntax.POWERSHELL)
            .build();
    Infrastructure next =
        Infrastructure.of(
            List.of(win, new WorkerPool(LINUX, "Linux", "build boxes")),
            List.of(fresh, keep),
            win.id(),
            false);
    store.replaceInfrastructure(next);
    assertThat(store.infrastructure()).isEqualTo(next);
    assertThat(store.leases()).containsExactly(lease);
    awaitEvent(new StoreEvent.WorkerRemoved(gone));
    awaitEvent(new StoreEvent.WorkerPut(null, fresh));
    awaitEvent(new StoreEvent.PoolRemoved(Infrastructure.DEFAULT_POOL_ID));
    awaitEvent(new StoreEvent.DefaultPoolMoved(Infrastructure.DEFAULT_POOL_ID, win.id()));
    awaitEvent(new StoreEvent.BuiltInWorkerSwitched(false));
    assertThat(events).doesNotContain(new StoreEvent.WorkerPut(keep, keep));
    assertThat(store.tryAcquireLease(claim("keep"))).isEmpty();
  }
}
