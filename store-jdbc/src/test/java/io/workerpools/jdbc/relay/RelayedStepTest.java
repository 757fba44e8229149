package io.workerpools.jdbc.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.jdbc.JdbcInfrastructureStore;
import io.workerpools.jdbc.PostgresExtension;
import io.workerpools.jdbc.TestDatabase;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.ScriptRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path on two host nodes: each its own {@link WorkerPools} facade over its own {@link
 * JdbcInfrastructureStore} (own connections) on one real PostgreSQL, its own Tentacle transport and
 * relay; a real polling agent process connected to node B only. A step submitted on node A is
 * leased there (the store's lease), and runs on the agent through the relay.
 */
@ExtendWith(PostgresExtension.class)
class RelayedStepTest {
  static final PoolId AGENTS = PoolId.of("agents");

  @TempDir Path home;

  @Test
  void aStepLeasedOnNodeARunsOnAPollingAgentConnectedToNodeB(TestDatabase db) throws Exception {
    try (PostgresRelay relayA = RelayedPollingTest.relay(db, "node-a");
        PostgresRelay relayB = RelayedPollingTest.relay(db, "node-b");
        TentacleTransport tentacleA = RelayedPollingTest.node(RelayedPollingTest.CERT_A, relayA);
        TentacleTransport tentacleB = RelayedPollingTest.node(RelayedPollingTest.CERT_B, relayB);
        AgentProcess agent =
            AgentProcess.poll(
                home,
                RelayedPollingTest.CERT_B.thumbprint(),
                tentacleB.pollingAddress(),
                RelayedPollingTest.SUB,
                2);
        JdbcInfrastructureStore storeA = db.newStore("node-a");
        JdbcInfrastructureStore storeB = db.newStore("node-b");
        WorkerPools nodeA =
            WorkerPools.builder().sharedStore(storeA).sharedTransport(tentacleA).build();
        WorkerPools nodeB =
            WorkerPools.builder().sharedStore(storeB).sharedTransport(tentacleB).build()) {
      tentacleB.registerPollingAgent(RelayedPollingTest.SUB, agent.thumbprint());
      Worker w = RelayedPollingTest.worker(agent.thumbprint());
      storeB.putPool(new WorkerPool(AGENTS, "Agents", "polling agents"));
      storeB.putWorker(Worker.builder(w.id().value()).pool(AGENTS).endpoint(w.endpoint()).build());
      RelayedPollingTest.await(
          () ->
              relayA.holder("tentacle-polling:" + RelayedPollingTest.SUB).isPresent()
                  && storeA.infrastructure().workers().containsKey(w.id()),
          "node A sees the worker and node B's announcement");
      HealthReport h = nodeA.health().check(w.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThat(h.status()).as(h.message()).isEqualTo(HealthStatus.HEALTHY);
      List<String> lines = new CopyOnWriteArrayList<>();
      StepResult r =
          nodeA.run(
              Step.builder("relayed-step", ScriptRequest.bash("echo on the agent; exit 3"))
                  .requirements(StepRequirements.inPool(AGENTS.value()))
                  .build(),
              l -> lines.add(l.line().text()));
      assertThat(r.worker()).contains(w.id());
      assertThat(r.exitCode().getAsInt()).as(r.message()).isEqualTo(3);
      assertThat(lines).contains("on the agent");
      assertThat(tentacleA.pollingConnections(RelayedPollingTest.SUB)).isZero();
      assertThat(storeB.leases()).as("node A's lease was released").isEmpty();
    }
  }
}
