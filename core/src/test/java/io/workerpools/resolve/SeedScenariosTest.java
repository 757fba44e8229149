package io.workerpools.resolve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InMemoryInfrastructureStore;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The scenarios of the seed post, one test each. */
class SeedScenariosTest {
  private final InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
  private final WorkerResolver resolver = WorkerResolver.builder(store).nodeId("test").build();

  @AfterEach
  void close() {
    resolver.close();
  }

  private Worker worker(String id, String pool) {
    Worker w = Worker.builder(id).endpoint(Endpoint.of("test", id)).pool(pool).build();
    store.putWorker(w);
    store.recordHealth(
        w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    return w;
  }

  @Test
  void ignoringWorkersEntirelyRunsStepsOnTheBuiltInWorker() {
    try (WorkerLease lease = resolver.acquire(StepRequirements.anyPool(), "step-1")) {
      assertThat(lease.isBuiltIn()).isTrue();
      assertThat(lease.pool()).isEqualTo(Infrastructure.DEFAULT_POOL_ID);
    }
  }

  @Test
  void oneWorkerInTheDefaultPoolMovesStepsOffTheHost() {
    worker("w1", "default");
    try (WorkerLease lease = resolver.acquire(StepRequirements.anyPool(), "step-1")) {
      assertThat(lease.isBuiltIn()).isFalse();
      assertThat(lease.worker().id()).isEqualTo(WorkerId.of("w1"));
    }
  }

  @Test
  void aDefaultPoolWithOnlyAnUnhealthyWorkerNeverFallsBackToTheBuiltInWorker() {
    Worker w = worker("w1", "default");
    store.recordHealth(
        w.id(), HealthReport.of(HealthStatus.UNAVAILABLE, Instant.now(), Duration.ZERO, "refused"));
    assertThatThrownBy(() -> resolver.acquire(StepRequirements.anyPool(), "step-1"))
        .isInstanceOf(NoEligibleWorkerException.class)
        .hasMessageContaining("w1")
        .hasMessageContaining("UNAVAILABLE")
        .hasMessageContaining("refused");
  }

  @Test
  void disablingTheBuiltInWorkerFailsWithAClearError() {
    store.setBuiltInWorkerEnabled(false);
    assertThatThrownBy(() -> resolver.acquire(StepRequirements.anyPool(), "step-1"))
        .isInstanceOf(BuiltInWorkerDisabledException.class)
        .hasMessageContaining("default")
        .hasMessageContaining("enable the built-in worker");
  }

  @Test
  void severalWorkersShareTheLoad() {
    worker("w1", "default");
    worker("w2", "default");
    worker("w3", "default");
    Set<WorkerId> used = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      used.add(resolver.acquire(StepRequirements.anyPool(), "s" + i).worker().id());
    }
    assertThat(used).hasSize(3);
    assertThat(store.leases()).hasSize(3);
  }
}
