package io.workerpools.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.testing.Await;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The monitor on real threads: answers arrive on four transport threads at random delays while the
 * store changes under it. Checks the bound on checks in flight as the transport sees it, and that
 * listeners are never called concurrently.
 */
class HealthMonitorThreadsTest {
  private final ScheduledExecutorService answers = Executors.newScheduledThreadPool(4);
  private final InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxSeen = new AtomicInteger();

  @AfterEach
  void stop() throws InterruptedException {
    answers.shutdownNow();
    assertThat(answers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private final WorkerTransport delayed =
      new WorkerTransport() {
        @Override
        public boolean supports(Endpoint endpoint) {
          return endpoint.kind().equals("delayed");
        }

        @Override
        public CompletionStage<HealthReport> checkHealth(
            Worker worker, HealthCheckRequest request) {
          int now = inFlight.incrementAndGet();
          maxSeen.accumulateAndGet(now, Math::max);
          CompletableFuture<HealthReport> f = new CompletableFuture<>();
          answers.schedule(
              () -> {
                inFlight.decrementAndGet();
                f.complete(HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
              },
              ThreadLocalRandom.current().nextInt(1, 5),
              TimeUnit.MILLISECONDS);
          return f;
        }

        @Override
        public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
          throw new UnsupportedOperationException();
        }
      };

  @Test
  void manyWorkersAreAllCheckedWithinTheBoundWhileTheStoreChanges() {
    RecordingListener events = new RecordingListener();
    try (HealthMonitor monitor =
        HealthMonitor.builder(store, List.of(delayed))
            .maxInFlight(8)
            .policy(
                HealthPolicy.builder()
                    .interval(Duration.ofMinutes(5))
                    .timeout(Duration.ofSeconds(10))
                    .build())
            .build()) {
      monitor.addListener(events);
      java.util.Set<String> listenerThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
      monitor.addListener(
          new HealthListener() {
            @Override
            public void onCheckCompleted(WorkerId worker, HealthReport report) {
              listenerThreads.add(Thread.currentThread().getName());
            }
          });
      monitor.start();
      for (int i = 0; i < 600; i++) {
        store.putWorker(
            Worker.builder("w" + i)
                .endpoint(Endpoint.of("delayed", "h" + i))
                .pool("default")
                .build());
        if (i % 10 == 9) {
          store.removeWorker(WorkerId.of("w" + (i - 5)));
        }
      }
      int expected = 600 - 60;
      Await.until(
          "every remaining worker is healthy",
          Duration.ofSeconds(60),
          () -> store.health().size() == expected && monitor.stats().inFlight() == 0);
      assertThat(store.health().values()).allMatch(r -> r.status() == HealthStatus.HEALTHY);
      assertThat(maxSeen.get()).isLessThanOrEqualTo(8).isGreaterThan(1);
      assertThat(monitor.stats().maxInFlight()).isLessThanOrEqualTo(8);
      // One change (UNKNOWN -> HEALTHY) per worker checked: every remaining worker, plus those
      // removed after their check finished; never two for one worker.
      java.util.Map<WorkerId, Long> perWorker;
      synchronized (events) {
        perWorker =
            events.changes.stream()
                .collect(
                    java.util.stream.Collectors.groupingBy(
                        HealthStatusChange::worker, java.util.stream.Collectors.counting()));
      }
      assertThat(perWorker.keySet()).containsAll(store.health().keySet());
      assertThat(perWorker.values()).allMatch(n -> n == 1);
      assertThat(listenerThreads)
          .as("listeners run on the monitor's thread, never on a transport's")
          .containsOnly("workerpools-health");
      // An on-demand result is complete only once the store holds it.
      HealthReport onDemand =
          monitor
              .check(WorkerId.of("w0"))
              .thenApply(
                  r -> {
                    assertThat(store.health().get(WorkerId.of("w0"))).isSameAs(r);
                    return r;
                  })
              .toCompletableFuture()
              .join();
      assertThat(onDemand.status()).isEqualTo(HealthStatus.HEALTHY);
      assertThat(
              monitor
                  .summary()
                  .pool(store.infrastructure().defaultPool())
                  .count(HealthStatus.HEALTHY))
          .isEqualTo(expected);
    }
  }
}
