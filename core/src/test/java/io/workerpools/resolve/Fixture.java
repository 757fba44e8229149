package io.workerpools.resolve;

import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.testing.Await;
import io.workerpools.time.ManualTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** A store, a manual clock and resolvers over them, closed together. */
final class Fixture implements AutoCloseable {
  final ManualTimeSource time = new ManualTimeSource();
  final InMemoryInfrastructureStore store;
  private final List<WorkerResolver> resolvers = new ArrayList<>();

  Fixture() {
    this(Infrastructure.initial());
  }

  Fixture(Infrastructure initial) {
    store = new InMemoryInfrastructureStore(initial);
  }

  /** A resolver with a 10 s TTL and no automatic maintenance (tests call maintainNow). */
  WorkerResolver resolver(String node) {
    return resolver(node, SelectionStrategy.FEWEST_LEASES);
  }

  WorkerResolver resolver(String node, SelectionStrategy strategy) {
    WorkerResolver r =
        WorkerResolver.builder(store)
            .nodeId(node)
            .timeSource(time)
            .leaseTtl(Duration.ofSeconds(10))
            .selectionStrategy(strategy)
            .automaticMaintenance(false)
            .build();
    resolvers.add(r);
    return r;
  }

  Fixture pool(String id) {
    store.putPool(WorkerPool.of(id, "Pool " + id));
    return this;
  }

  /** Adds a healthy bash worker to the pools. */
  Worker worker(String id, String... pools) {
    return worker(Worker.builder(id).endpoint(Endpoint.of("test", id)), pools);
  }

  Worker worker(Worker.Builder b, String... pools) {
    for (String p : pools) {
      b.pool(p);
    }
    Worker w = b.build();
    store.putWorker(w);
    health(w.id().value(), HealthStatus.HEALTHY);
    return w;
  }

  void health(String worker, HealthStatus status) {
    store.recordHealth(
        WorkerId.of(worker), HealthReport.of(status, time.now(), Duration.ZERO, "checked"));
  }

  /** Bounded wait on a condition; no sleeping. */
  static void awaitUntil(String what, BooleanSupplier condition) {
    Await.until(what, condition);
  }

  @Override
  public void close() {
    for (WorkerResolver r : resolvers) {
      r.close();
    }
  }
}
