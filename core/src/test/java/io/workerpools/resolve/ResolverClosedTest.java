package io.workerpools.resolve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ClosedException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A closed resolver fails with {@link ClosedException}, never an IllegalStateException. */
class ResolverClosedTest {
  private final Fixture fx = new Fixture().pool("linux");
  private final StepRequirements linux = StepRequirements.inPool("linux");

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void acquiringFromAClosedResolverThrowsClosedException() {
    fx.worker("a", "linux");
    WorkerResolver r = fx.resolver("n1");
    r.close();
    assertThatThrownBy(() -> r.acquire(linux, "s"))
        .isInstanceOf(ClosedException.class)
        .isInstanceOf(WorkerPoolsException.class)
        .hasMessageContaining("WorkerResolver n1")
        .satisfies(
            e -> assertThat(((ClosedException) e).component()).isEqualTo("WorkerResolver n1"));
    assertThatThrownBy(() -> r.acquire(linux, "s", Duration.ofSeconds(5)))
        .isInstanceOf(ClosedException.class);
    assertThat(fx.store.leases()).isEmpty();
  }

  @Test
  void closingFailsWaitersAndIdleWatchersWithClosedException() {
    fx.worker(
        Worker.builder("a").endpoint(Endpoint.of("test", "a")).maxConcurrentSteps(1), "linux");
    WorkerResolver r = fx.resolver("n1");
    WorkerLease busy = r.acquire(linux, "busy");
    CompletableFuture<WorkerLease> waiter = r.acquire(linux, "w", Duration.ofMinutes(5));
    CompletableFuture<Void> idle = r.awaitIdle(busy.worker().id());
    assertThat(waiter).isNotDone();
    assertThat(idle).isNotDone();
    r.close();
    assertThatThrownBy(waiter::join)
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(ClosedException.class);
    assertThatThrownBy(idle::join)
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(ClosedException.class);
    busy.close();
    assertThat(fx.store.leases()).isEmpty();
  }
}
