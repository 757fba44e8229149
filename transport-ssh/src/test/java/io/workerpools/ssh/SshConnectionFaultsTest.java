package io.workerpools.ssh;

import static io.workerpools.ssh.SshTestSupport.await;
import static io.workerpools.ssh.SshTestSupport.awaitUntil;
import static io.workerpools.ssh.SshTestSupport.endpoint;
import static io.workerpools.ssh.SshTestSupport.worker;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.ssh.SshTestSupport.Credentials;
import io.workerpools.ssh.SshTestSupport.Lines;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.ScriptResult.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Connections that break under a running step: the step ends as WORKER_LOST, never hangs. */
class SshConnectionFaultsTest {
  @RegisterExtension static final OpenSshServerExtension SSHD = new OpenSshServerExtension();

  private static final Credentials CREDENTIALS = new Credentials();
  private static SshTransport transport;
  private static Worker worker;

  @BeforeAll
  static void setUp() {
    OpenSshServer s = SSHD.server();
    CREDENTIALS.byId.put("key", SshCredentials.privateKeyFile(s.clientKey("ed25519", "", true)));
    transport =
        SshTransport.builder(CREDENTIALS)
            .keepAliveInterval(Duration.ofMillis(500))
            .keepAliveMaxMissed(2)
            .build();
    worker =
        worker(
            "faulty",
            endpoint(
                s.address(),
                "root",
                Map.of(
                    SshEndpoint.CREDENTIALS,
                    "key",
                    SshEndpoint.KNOWN_HOSTS,
                    s.knownHosts().toString())));
  }

  @AfterAll
  static void tearDown() {
    transport.close();
  }

  @Test
  void sshdKilledMidStepGivesWorkerLostReleasesTheLeaseAndTheNextStepReconnects() {
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
    store.putPool(WorkerPool.of("ssh-pool", "SSH pool"));
    store.putWorker(worker);
    store.recordHealth(
        worker.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    try (WorkerResolver resolver = WorkerResolver.builder(store).nodeId("test").build()) {
      WorkerLease lease = resolver.acquire(StepRequirements.inPool("ssh-pool"), "step-1");
      Lines lines = new Lines();
      ScriptExecution e =
          transport.start(lease.worker(), ScriptRequest.bash("echo started; sleep 600"), lines);
      e.result().whenComplete((r, t) -> lease.close());
      awaitUntil(Duration.ofSeconds(20), () -> lines.contains("started"), "the step to start");
      assertThat(store.leases()).hasSize(1);

      SSHD.server().kill();
      ScriptResult r = await(e, transport.keepAliveBound().plusSeconds(2));
      assertThat(r.outcome()).isEqualTo(Outcome.WORKER_LOST);
      assertThat(r.message()).contains("lost");
      awaitUntil(Duration.ofSeconds(5), () -> store.leases().isEmpty(), "the lease to be released");
    }

    SSHD.server().restart();
    Lines again = new Lines();
    ScriptResult r = await(transport.start(worker, ScriptRequest.bash("echo back"), again));
    assertThat(r.succeeded()).as(r.message()).isTrue();
    assertThat(again.out()).containsExactly("back");
  }

  @Test
  void aSilentConnectionIsDetectedWithinTheKeepAliveBound() {
    Lines lines = new Lines();
    ScriptExecution e =
        transport.start(worker, ScriptRequest.bash("echo started; sleep 600"), lines);
    awaitUntil(Duration.ofSeconds(20), () -> lines.contains("started"), "the step to start");
    SSHD.server().freeze(true);
    long t0 = System.nanoTime();
    try {
      ScriptResult r = await(e, transport.keepAliveBound().plusSeconds(3));
      assertThat(r.outcome()).isEqualTo(Outcome.WORKER_LOST);
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .isLessThan(transport.keepAliveBound().plusSeconds(3));
    } finally {
      SSHD.server().freeze(false);
      SSHD.server().kill();
      SSHD.server().restart();
    }
  }
}
