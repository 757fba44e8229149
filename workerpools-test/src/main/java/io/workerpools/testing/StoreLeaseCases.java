package io.workerpools.testing;

import static io.workerpools.testing.InfrastructureStoreContract.T0;
import static io.workerpools.testing.InfrastructureStoreContract.claim;
import static io.workerpools.testing.InfrastructureStoreContract.twoPools;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.testing.InfrastructureStoreContract.Recorder;
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
    try (AutoCloseable sub = s.subscribe(r)) {
      Optional<LeaseRecord> l = s.tryAcquireLease(claim("l1", "a", "n1"));
      assertThat(l).contains(claim("l1", "a", "n1"));
      r.await(StoreEvent.LeaseAcquired.class, e -> e.lease().leaseId().equals("l1"));
    }
    assertThat(s.leases()).containsExactly(claim("l1", "a", "n1"));
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
  default void renewalMovesTheExpiryOfTheHoldersLeasesOnly() {
    InfrastructureStore s = storeContract().open(twoPools());
    s.tryAcquireLease(claim("l1", "a", "n1"));
    s.tryAcquireLease(claim("l2", "b", "n1"));
    s.tryAcquireLease(claim("l3", "b", "n2"));
    Instant later = T0.plusSeconds(600);
    assertThat(s.renewLeases("n1", later)).isEqualTo(2);
    Map<String, Instant> expiry = new java.util.HashMap<>();
    s.leases().forEach(l -> expiry.put(l.leaseId(), l.expiresAt()));
    assertThat(expiry)
        .containsEntry("l1", later)
        .containsEntry("l2", later)
        .containsEntry("l3", T0.plusSeconds(60));
    assertThat(s.renewLeases("nobody", later)).isZero();
  }

  @Test
  default void expiryEndsOnlyLeasesPastTheirExpiryAndFreesCapacity() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    s.tryAcquireLease(claim("l1", "a", "dead"));
    s.tryAcquireLease(claim("l2", "a", "alive"));
    s.renewLeases("alive", T0.plusSeconds(600));
    assertThat(s.expireLeases(T0.plusSeconds(30))).isEmpty();
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      List<LeaseRecord> expired = s.expireLeases(T0.plusSeconds(61));
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
