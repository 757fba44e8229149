package io.workerpools.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.NoEligibleWorkerException;
import io.workerpools.resolve.PassedOver;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SSH workers run bash only, and the resolver says so when a PowerShell step meets them. */
class SshWorkersResolveTest {

  @Test
  void aPowerShellStepOnAnSshOnlyPoolHasNoEligibleWorkerBecauseOfItsSyntax() {
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
    store.putPool(WorkerPool.of("linux", "Linux SSH workers"));
    for (String id : new String[] {"ssh-1", "ssh-2"}) {
      Worker w =
          SshTransport.bashWorker(id)
              .endpoint(
                  SshTestSupport.endpoint(
                      "10.0.0.1:22",
                      "deploy",
                      Map.of("credentials", "k", "hostKey", "SHA256:" + "A".repeat(43))))
              .pool("linux")
              .build();
      store.putWorker(w);
      store.recordHealth(
          w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    }
    try (WorkerResolver resolver = WorkerResolver.builder(store).nodeId("t").build()) {
      StepRequirements ps =
          StepRequirements.builder().pool("linux").syntax(ScriptSyntax.POWERSHELL).build();
      assertThatThrownBy(() -> resolver.acquire(ps, "step"))
          .isInstanceOfSatisfying(
              NoEligibleWorkerException.class,
              e ->
                  assertThat(e.blocked().passedOver())
                      .hasSize(2)
                      .allSatisfy(
                          p -> assertThat(p.reason()).isEqualTo(PassedOver.Reason.WRONG_SYNTAX)))
          .hasMessageContaining("ssh-1")
          .hasMessageContaining("ssh-2");
      StepRequirements bash =
          StepRequirements.builder().pool("linux").syntax(ScriptSyntax.BASH).build();
      try (var lease = resolver.acquire(bash, "step-2")) {
        assertThat(lease.worker().syntaxes()).containsExactly(ScriptSyntax.BASH);
      }
    }
  }
}
