package io.workerpools.testing;

import static io.workerpools.testing.InfrastructureStoreContract.T0;
import static io.workerpools.testing.InfrastructureStoreContract.claim;
import static io.workerpools.testing.InfrastructureStoreContract.twoPools;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.NodeIdInUseException;
import io.workerpools.store.StoreEvent;
import io.workerpools.testing.InfrastructureStoreContract.Recorder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Part of {@link InfrastructureStoreContract}. Leases: granted as claimed, never beyond a cap or
 * twice, released once, renewed and expired, also under concurrent claims. Not meant to be
 * implemented directly: extend {@link InfrastructureStoreContract}.
 */
interface StoreLeaseCases extends StoreContractCases {

  // ---- leases ----

  @Test
  default void aLeaseIsGrantedAsClaimedAndAnnounced() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    Recorder r = new Recorder();
    LeaseRecord claim = claim("l1", "a", "n1");
    try (AutoCloseable sub = s.subscribe(r)) {
      LeaseRecord l = s.tryAcquireLease(claim).orElseThrow();
      assertThat(l.withTimes(claim.acquiredAt(), claim.expiresAt()))
          .as("granted as claimed, but for the instants a store with its own clock stamps")
          .isEqualTo(claim);
      assertThat(ttlMicros(l)).as("the claim's TTL is kept").isEqualTo(ttlMicros(claim));
      r.await(StoreEvent.LeaseAcquired.class, e -> e.lease().equals(l));
      assertThat(s.leases()).containsExactly(l);
    }
  }

  @Test
  default void noLeaseBeyondAWorkersCap() {
    InfrastructureStore s = storeContract().open(twoPools());
    assertThat(s.tryAcquireLease(claim("l1", "a", "n1"))).isPresent();
    assertThat(s.tryAcquireLease(claim("l2", "a", "n2"))).isPresent();
    assertThat(s.tryAcquireLease(claim("l3", "a", "n1"))).isEmpty();
    assertThat(s.leases()).hasSize(2);
    assertThat(s.releaseLease("l1")).isTrue();
    assertThat(s.tryAcquireLease(claim("l3", "a", "n1"))).isPresent();
  }

  @Test
  default void noLeaseOnADisabledDrainingOrUnknownWorker() {
    InfrastructureStore s = storeContract().open(twoPools());
    Worker b = s.infrastructure().workers().get(WorkerId.of("b"));
    s.putWorker(b.toBuilder().enabled(false).build());
    assertThat(s.tryAcquireLease(claim("l1", "b", "n1"))).isEmpty();
    s.setDraining(WorkerId.of("a"), true);
    assertThat(s.tryAcquireLease(claim("l2", "a", "n1"))).isEmpty();
    assertThat(s.tryAcquireLease(claim("l3", "ghost", "n1"))).isEmpty();
    assertThat(s.leases()).isEmpty();
  }

  @Test
  default void aLeaseIdIsNeverGrantedTwice() {
    InfrastructureStore s = storeContract().open(twoPools());
    assertThat(s.tryAcquireLease(claim("l1", "b", "n1"))).isPresent();
    Optional<LeaseRecord> again;
    try {
      again = s.tryAcquireLease(claim("l1", "b", "n2"));
    } catch (RuntimeException rejected) {
      again = Optional.empty();
    }
    assertThat(again).isEmpty();
    assertThat(s.leases()).extracting(LeaseRecord::holder).containsExactly("n1");
  }

  @Test
  default void releaseIsTrueExactlyOnceAndAnnouncedAsNotExpired() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    s.tryAcquireLease(claim("l1", "a", "n1"));
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      assertThat(s.releaseLease("l1")).isTrue();
      assertThat(s.releaseLease("l1")).isFalse();
      assertThat(s.releaseLease("never-granted")).isFalse();
      StoreEvent.LeaseEnded e = r.await(StoreEvent.LeaseEnded.class, x -> true);
      assertThat(e.expired()).isFalse();
      assertThat(e.lease().leaseId()).isEqualTo("l1");
    }
    assertThat(s.leases()).isEmpty();
  }

  @Test
  default void renewalMovesTheExpiryOfTheHoldersLiveLeasesOnly() {
    InfrastructureStore s = storeContract().open(twoPools());
    s.tryAcquireLease(claim("l1", "a", "n1"));
    s.tryAcquireLease(claim("l2", "b", "n1"));
    s.tryAcquireLease(claim("l3", "b", "n2"));
    // Already past its expiry when renewed (by any clock: its TTL is one microsecond).
    s.tryAcquireLease(shortClaim("l4", "b", "n1"));
    Map<String, Instant> before = expiries(s);
    assertThat(s.renewLeases("n1", T0.plusSeconds(10), Duration.ofSeconds(600))).isEqualTo(2);
    Map<String, Instant> after = expiries(s);
    assertThat(after.get("l1")).isAfter(before.get("l1").plusSeconds(500));
    assertThat(after.get("l2")).isAfter(before.get("l2").plusSeconds(500));
    assertThat(after.get("l3")).as("another holder's lease").isEqualTo(before.get("l3"));
    assertThat(after.get("l4")).as("an expired lease is never revived").isEqualTo(before.get("l4"));
    assertThat(s.renewLeases("nobody", T0.plusSeconds(10), Duration.ofSeconds(600))).isZero();
  }

  @Test
  default void expiryEndsOnlyLeasesPastTheirExpiryAndFreesCapacity() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    s.tryAcquireLease(shortClaim("l1", "a", "dead"));
    s.tryAcquireLease(claim("l2", "a", "alive"));
    s.renewLeases("alive", T0.plusSeconds(10), Duration.ofSeconds(600));
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      List<LeaseRecord> expired = s.expireLeases(T0.plusSeconds(30));
      assertThat(expired).extracting(LeaseRecord::leaseId).containsExactly("l1");
      StoreEvent.LeaseEnded e = r.await(StoreEvent.LeaseEnded.class, x -> true);
      assertThat(e.expired()).isTrue();
      assertThat(e.lease().leaseId()).isEqualTo("l1");
    }
    assertThat(s.leases()).extracting(LeaseRecord::leaseId).containsExactly("l2");
    assertThat(s.releaseLease("l1")).as("an expired lease is not released again").isFalse();
    assertThat(s.tryAcquireLease(claim("l3", "a", "alive"))).isPresent();
  }

  @Test
  default void aSecondLiveInstanceOfANodeIdIsRefusedUntilTheFirstLeavesOrExpires() {
    InfrastructureStore s = storeContract().open(twoPools());
    Duration ttl = Duration.ofSeconds(60);
    s.heartbeatNode("n1", "first", T0, ttl);
    s.heartbeatNode("n1", "first", T0.plusSeconds(20), ttl);
    s.heartbeatNode("n2", "other", T0, ttl);
    assertThatThrownBy(() -> s.heartbeatNode("n1", "second", T0.plusSeconds(21), ttl))
        .isInstanceOf(NodeIdInUseException.class)
        .hasMessageContaining("'n1'")
        .hasMessageContaining("leave nodeId unset");
    s.leaveNode("n1", "second");
    assertThatThrownBy(() -> s.heartbeatNode("n1", "second", T0.plusSeconds(22), ttl))
        .as("leaving with another instance's token frees nothing")
        .isInstanceOf(NodeIdInUseException.class);
    s.leaveNode("n1", "first");
    s.heartbeatNode("n1", "second", T0.plusSeconds(23), ttl);
  }

  private static LeaseRecord shortClaim(String leaseId, String worker, String holder) {
    LeaseRecord c = claim(leaseId, worker, holder);
    return c.withTimes(T0, T0.plusNanos(1_000));
  }

  private static long ttlMicros(LeaseRecord l) {
    return Duration.between(l.acquiredAt(), l.expiresAt()).toNanos() / 1_000;
  }

  private static Map<String, Instant> expiries(InfrastructureStore s) {
    Map<String, Instant> expiry = new java.util.HashMap<>();
    s.leases().forEach(l -> expiry.put(l.leaseId(), l.expiresAt()));
    return expiry;
  }

  @Test
  default void concurrentClaimsNeverOverLeaseAWorker() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    int threads = 8;
    int perThread = 25;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      AtomicInteger granted = new AtomicInteger();
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int tt = t;
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < perThread; i++) {
                    if (s.tryAcquireLease(claim("t" + tt + "-" + i, "a", "n" + tt)).isPresent()) {
                      granted.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertThat(granted.get()).isEqualTo(2);
      assertThat(s.leases()).hasSize(2);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  default void concurrentReleasesOfOneLeaseSucceedExactlyOnce() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    int leases = 40;
    for (int i = 0; i < leases; i++) {
      assertThat(s.tryAcquireLease(claim("l" + i, "b", "n1"))).isPresent();
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      AtomicInteger released = new AtomicInteger();
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < leases; i++) {
                    if (s.releaseLease("l" + i)) {
                      released.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertThat(released.get()).isEqualTo(leases);
      assertThat(s.leases()).isEmpty();
    } finally {
      pool.shutdownNow();
    }
  }
}
