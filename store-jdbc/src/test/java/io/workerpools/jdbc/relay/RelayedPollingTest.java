package io.workerpools.jdbc.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.jdbc.PostgresExtension;
import io.workerpools.jdbc.TestDatabase;
import io.workerpools.jdbc.TestPools;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.ScriptResult.Outcome;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two host nodes, each its own Tentacle transport, polling port and {@link PostgresRelay} (own
 * pool, own connections) on one real PostgreSQL, and a real polling agent process connected to node
 * B only: steps and health checks made on node A reach it through the relay.
 */
@ExtendWith(PostgresExtension.class)
class RelayedPollingTest {
  static final TentacleCertificate CERT_A = TentacleCertificate.generate("node-a");
  static final TentacleCertificate CERT_B = TentacleCertificate.generate("node-b");
  static final String SUB = "relayed-agent";

  @TempDir Path home;
  PostgresRelay relayA;
  PostgresRelay relayB;
  TentacleTransport nodeA;
  TentacleTransport nodeB;
  AgentProcess agent;

  @AfterEach
  void stop() {
    for (AutoCloseable c : new AutoCloseable[] {agent, nodeA, nodeB, relayA, relayB}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          // closing anyway
        }
      }
    }
  }

  static TentacleTransport node(TentacleCertificate cert, PostgresRelay relay) {
    return TentacleTransport.builder(cert)
        .pollingListener(new InetSocketAddress("127.0.0.1", 0))
        .relay(relay)
        .collectTimeout(Duration.ofSeconds(4))
        .retryWindow(Duration.ofSeconds(4))
        .statusHold(Duration.ofSeconds(1))
        .cancelGrace(Duration.ofSeconds(10))
        .build();
  }

  static PostgresRelay relay(TestDatabase db, String node) {
    return PostgresRelay.builder(TestPools.of(db.dataSource(), 12))
        .nodeId(node)
        .announcementTtl(Duration.ofSeconds(3))
        .sweepInterval(Duration.ofMillis(200))
        .build();
  }

  static Worker worker(String thumbprint) {
    return Worker.builder("relayed-w")
        .pool("p")
        .endpoint(
            Endpoint.of(
                TentacleTransport.POLLING, "poll://" + SUB, Map.of("thumbprint", thumbprint)))
        .build();
  }

  static void await(BooleanSupplier c, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!c.getAsBoolean()) {
      assertThat(System.nanoTime() - end).as("waited for: " + what).isNegative();
      TimeUnit.MILLISECONDS.sleep(20); // polling a condition, not making things overlap
    }
  }

  static ScriptResult result(ScriptExecution e) throws Exception {
    return e.result().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /** Node B holds the agent; node A sees B as its holder. */
  void twoNodesAndAnAgentOnB(TestDatabase db) throws Exception {
    relayA = relay(db, "node-a");
    relayB = relay(db, "node-b");
    nodeA = node(CERT_A, relayA);
    nodeB = node(CERT_B, relayB);
    agent = AgentProcess.poll(home, CERT_B.thumbprint(), nodeB.pollingAddress(), SUB, 2);
    nodeB.registerPollingAgent(SUB, agent.thumbprint());
    await(() -> nodeB.pollingConnections(SUB) == 2, "the agent connects to node B");
    await(
        () -> relayA.holder("tentacle-polling:" + SUB).isPresent(),
        "node B's announcement reaches node A");
    assertThat(nodeA.pollingConnections(SUB)).isZero();
  }

  @Test
  void aStepOnTheOtherNodeRunsOnTheAgentWithItsOutputAndExitCode(TestDatabase db) throws Exception {
    twoNodesAndAnAgentOnB(db);
    Worker w = worker(agent.thumbprint());
    List<String> lines = new CopyOnWriteArrayList<>();
    ScriptResult r =
        result(
            nodeA.start(
                w,
                ScriptRequest.bash("echo relayed one; echo relayed two; exit 7"),
                l -> lines.add(l.text())));
    assertThat(r.exitCode().getAsInt()).isEqualTo(7);
    assertThat(lines).containsExactly("relayed one", "relayed two");
    HealthReport h =
        nodeA
            .checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(5)))
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    assertThat(h.status()).as(h.message()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(h.details()).containsKey("os");
    assertThat(nodeA.pollingConnections(SUB)).as("A never held the agent").isZero();
  }

  @Test
  void aCancelOnTheOtherNodeStopsTheScriptOnTheAgent(TestDatabase db) throws Exception {
    twoNodesAndAnAgentOnB(db);
    CountDownLatch started = new CountDownLatch(1);
    ScriptExecution e =
        nodeA.start(
            worker(agent.thumbprint()),
            ScriptRequest.bash("echo started; sleep 120; echo never"),
            (LogLine l) -> {
              if (l.text().equals("started")) {
                started.countDown();
              }
            });
    assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
    e.cancel();
    ScriptResult r = result(e);
    assertThat(r.outcome()).isEqualTo(Outcome.CANCELLED);
    assertThat(r.message()).as("the agent confirmed the cancel").doesNotContain("did not confirm");
  }

  @Test
  void whenTheHoldingNodeDiesARunningStepEndsByItsDeadlineInsteadOfHanging(TestDatabase db)
      throws Exception {
    twoNodesAndAnAgentOnB(db);
    CountDownLatch started = new CountDownLatch(1);
    ScriptExecution e =
        nodeA.start(
            worker(agent.thumbprint()),
            ScriptRequest.bash("echo started; sleep 120"),
            l -> started.countDown());
    assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
    nodeB.close(); // node B and its connections to the agent are gone
    relayB.close();
    ScriptResult r = result(e);
    assertThat(r.outcome()).isEqualTo(Outcome.WORKER_LOST);
  }

  @Test
  void aCallToAHolderThatDiedWithoutWithdrawingFailsByTheCollectTimeout(TestDatabase db)
      throws Exception {
    relayA = relay(db, "node-a");
    nodeA = node(CERT_A, relayA);
    // A node that crashed: its announcement is still there, nobody takes its calls.
    db.cluster()
        .execute(
            db.name(),
            "INSERT INTO wp_relay_holders VALUES ('tentacle-polling:"
                + SUB
                + "', 'node-dead', now() + interval '1 hour')");
    assertThat(relayA.holder("tentacle-polling:" + SUB)).contains("node-dead");
    ScriptResult r =
        result(
            nodeA.start(
                worker(TentacleCertificate.generate("x").thumbprint()),
                ScriptRequest.bash("true"),
                l -> {}));
    assertThat(r.outcome()).isEqualTo(Outcome.COULD_NOT_START);
    assertThat(r.message()).contains("node-dead");
    assertThat(PostgresRelayTest.rows(db, "wp_relay_requests"))
        .as("every withdrawn call's row is gone")
        .isZero();
  }
}
