package io.workerpools.jdbc.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.jdbc.PostgresExtension;
import io.workerpools.jdbc.TestDatabase;
import io.workerpools.jdbc.TestPools;
import io.workerpools.relay.RelayCall;
import io.workerpools.relay.RelayException;
import io.workerpools.relay.RelayException.Reason;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The PostgreSQL relay between two nodes, each with its own pool, on a real PostgreSQL. */
@ExtendWith(PostgresExtension.class)
class PostgresRelayTest {
  PostgresRelay a;
  PostgresRelay b;

  @AfterEach
  void close() {
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
  }

  static PostgresRelay relay(TestDatabase db, String node) {
    return PostgresRelay.builder(TestPools.of(db.dataSource(), 12))
        .nodeId(node)
        .sweepInterval(Duration.ofMillis(200))
        .announcementTtl(Duration.ofSeconds(3))
        .build();
  }

  static RelayCall call(String address, String text, Duration timeout) {
    return RelayCall.builder()
        .address(address)
        .payload(text.getBytes(StandardCharsets.UTF_8))
        .deadline(Instant.now().plus(timeout))
        .build();
  }

  static void await(BooleanSupplier c, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!c.getAsBoolean()) {
      assertThat(System.nanoTime() - end).as("waited for: " + what).isNegative();
      TimeUnit.MILLISECONDS.sleep(20); // polling a condition, not making things overlap
    }
  }

  static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  static RelayException failure(CompletableFuture<byte[]> f) throws InterruptedException {
    try {
      f.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(RelayException.class);
      return (RelayException) e.getCause();
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("the relay did not end the call by its deadline", e);
    }
    throw new AssertionError("the call succeeded");
  }

  @Test
  void aCallReachesTheAnnouncingNodeAndItsReplyComesBack(TestDatabase db) throws Exception {
    a = relay(db, "node-a");
    b = relay(db, "node-b");
    a.serve(c -> CompletableFuture.completedFuture(("A got " + text(c.payload())).getBytes()));
    a.announce("agent:one");
    await(() -> b.holder("agent:one").isPresent(), "B sees A's announcement");
    assertThat(b.holder("agent:one")).contains("node-a");
    assertThat(a.holder("agent:one")).as("a node is never its own holder").isEmpty();
    for (int i = 0; i < 20; i++) {
      byte[] r =
          b.call("node-a", call("agent:one", "hello " + i, Duration.ofSeconds(10)))
              .toCompletableFuture()
              .get(15, TimeUnit.SECONDS);
      assertThat(text(r)).isEqualTo("A got hello " + i);
    }
    assertThat(rows(db, "wp_relay_requests")).as("served requests are deleted").isZero();
    assertThat(rows(db, "wp_relay_replies")).as("taken replies are deleted").isZero();
    a.withdraw("agent:one");
    await(() -> b.holder("agent:one").isEmpty(), "the withdrawal reaches B");
  }

  @Test
  void aCallToANodeThatIsGoneFailsByItsDeadlineWithdrawnUnread(TestDatabase db) throws Exception {
    a = relay(db, "node-a");
    b = relay(db, "node-b");
    a.close();
    RelayException e =
        failure(
            b.call("node-a", call("agent:gone", "anyone?", Duration.ofMillis(800)))
                .toCompletableFuture());
    assertThat(e.reason()).isEqualTo(Reason.DEADLINE_PASSED);
    assertThat(e.mayHaveBeenDelivered()).as("its row was still there: never delivered").isFalse();
    assertThat(rows(db, "wp_relay_requests")).isZero();
    // With a take-by time, the dead holder is found out by it, long before the deadline.
    RelayCall soon =
        RelayCall.builder()
            .address("agent:gone")
            .payload(new byte[] {1})
            .deadline(Instant.now().plus(Duration.ofMinutes(5)))
            .takeBy(Instant.now().plus(Duration.ofMillis(300)))
            .build();
    RelayException notTaken = failure(b.call("node-a", soon).toCompletableFuture());
    assertThat(notTaken.reason()).isEqualTo(Reason.NOT_TAKEN);
    assertThat(notTaken.mayHaveBeenDelivered()).isFalse();
    assertThat(rows(db, "wp_relay_requests")).isZero();
  }

  @Test
  void aHandlerThatNeverRepliesFailsTheCallByItsDeadlineAsPossiblyDelivered(TestDatabase db)
      throws Exception {
    a = relay(db, "node-a");
    b = relay(db, "node-b");
    CountDownLatch took = new CountDownLatch(1);
    a.serve(
        c -> {
          took.countDown();
          return new CompletableFuture<>(); // never completes
        });
    CompletableFuture<byte[]> f =
        b.call("node-a", call("agent:slow", "x", Duration.ofSeconds(2))).toCompletableFuture();
    assertThat(took.await(20, TimeUnit.SECONDS)).isTrue();
    RelayException e = failure(f);
    assertThat(e.reason()).isEqualTo(Reason.DEADLINE_PASSED);
    assertThat(e.mayHaveBeenDelivered()).isTrue();
  }

  @Test
  void aFailingHandlerIsRelayedAsARemoteFailureWithItsMessage(TestDatabase db) throws Exception {
    a = relay(db, "node-a");
    b = relay(db, "node-b");
    a.serve(c -> CompletableFuture.failedFuture(new IllegalStateException("no such agent here")));
    RelayException e =
        failure(
            b.call("node-a", call("agent:x", "x", Duration.ofSeconds(10))).toCompletableFuture());
    assertThat(e.reason()).isEqualTo(Reason.REMOTE_FAILURE);
    assertThat(e.getMessage()).contains("no such agent here");
  }

  @Test
  void aPayloadOverTheBoundIsRefusedBeforeItLeaves(TestDatabase db) throws Exception {
    b =
        PostgresRelay.builder(TestPools.of(db.dataSource(), 12))
            .nodeId("node-b")
            .maxPayloadBytes(1024)
            .build();
    RelayException e =
        failure(
            b.call("node-a", call("agent:big", "x".repeat(1025), Duration.ofSeconds(5)))
                .toCompletableFuture());
    assertThat(e.reason()).isEqualTo(Reason.PAYLOAD_TOO_LARGE);
    assertThat(e.mayHaveBeenDelivered()).isFalse();
    assertThat(rows(db, "wp_relay_requests")).isZero();
  }

  @Test
  void theListeningConnectionIsReplacedWhenKilledAndCallsStillArrive(TestDatabase db)
      throws Exception {
    a = relay(db, "node-a");
    b = relay(db, "node-b");
    a.serve(c -> CompletableFuture.completedFuture(c.payload()));
    await(a::listening, "A listens");
    long before = a.listenConnects();
    // Cut A's LISTEN connection from the server side, as a database restart or a proxy would.
    db.cluster()
        .execute(
            db.name(),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'"
                + " OR (datname = current_database() AND pid <> pg_backend_pid()"
                + " AND query = 'SELECT 1')");
    byte[] r =
        b.call("node-a", call("agent:cut", "after the cut", Duration.ofSeconds(15)))
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    assertThat(text(r)).isEqualTo("after the cut");
    await(() -> a.listenConnects() > before, "A listens again");
  }

  @Test
  void anAnnouncementOfANodeThatStopsRefreshingExpires(TestDatabase db) throws Exception {
    a = relay(db, "node-a");
    b = relay(db, "node-b");
    a.announce("agent:ttl");
    await(() -> b.holder("agent:ttl").isPresent(), "announced");
    // A dies without withdrawing: stop its refreshes by making its row expire now (its timer would
    // refresh it); the sweep deletes it and B no longer sees a holder.
    a.close();
    db.cluster()
        .execute(
            db.name(),
            "INSERT INTO wp_relay_holders VALUES ('agent:ttl', 'node-a', now() + interval '1 s')");
    assertThat(b.holder("agent:ttl")).contains("node-a");
    await(() -> b.holder("agent:ttl").isEmpty(), "the announcement expires");
  }

  @Test
  void badValuesAreRefusedNamingTheField(TestDatabase db) {
    assertThatThrownBy(() -> PostgresRelay.builder(db.dataSource()).nodeId("a b"))
        .hasMessageContaining("nodeId");
    assertThatThrownBy(
            () ->
                RelayCall.builder()
                    .address("has space")
                    .payload(new byte[1])
                    .deadline(Instant.now())
                    .build())
        .hasMessageContaining("address");
    assertThatThrownBy(
            () ->
                RelayCall.builder()
                    .id("")
                    .address("x")
                    .payload(new byte[1])
                    .deadline(Instant.now())
                    .build())
        .hasMessageContaining("id");
    assertThatThrownBy(
            () ->
                RelayCall.builder()
                    .address("x")
                    .payload(new byte[1])
                    .deadline(Instant.now())
                    .takeBy(Instant.now().plusSeconds(60))
                    .build())
        .hasMessageContaining("takeBy");
  }

  static long rows(TestDatabase db, String table) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM " + table)) {
      r.next();
      return r.getLong(1);
    }
  }
}
