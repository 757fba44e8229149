package io.workerpools.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.testing.Await;
import io.workerpools.transport.ScriptRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitor against the real local process transport: real child processes run the health
 * scripts, on the system clock and the monitor's own scheduler thread.
 */
class LocalTransportHealthTest {
  @TempDir Path base;
  private final InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
  private LocalProcessTransport transport;
  private HealthMonitor monitor;

  @AfterEach
  void close() {
    if (monitor != null) {
      monitor.close();
    }
    if (transport != null) {
      transport.close();
    }
  }

  private static HealthPolicy.Builder policy() {
    return HealthPolicy.builder()
        .interval(Duration.ofMinutes(10))
        .timeout(Duration.ofSeconds(20))
        .failuresBeforeUnavailable(1);
  }

  private static Worker local(String id) {
    return Worker.builder(id).endpoint(Endpoint.local()).pool("default").build();
  }

  private HealthReport awaitReport(WorkerId id) {
    Await.until(
        "worker " + id + " has a report",
        Duration.ofSeconds(30),
        () -> store.health().containsKey(id));
    return store.health().get(id);
  }

  @Test
  void connectivityAndHealthScriptsReportWhatTheWorkerSays() throws Exception {
    transport = LocalProcessTransport.builder().baseDirectory(base).build();
    Map<WorkerId, HealthPolicy> perWorker = new HashMap<>();
    perWorker.put(WorkerId.of("ok"), policy().build());
    perWorker.put(
        WorkerId.of("script-ok"), policy().healthScript(ScriptRequest.bash("exit 0")).build());
    perWorker.put(
        WorkerId.of("warns"),
        policy().healthScript(ScriptRequest.bash("echo 'inode usage 95%' >&2; exit 0")).build());
    perWorker.put(
        WorkerId.of("warn-code"), policy().healthScript(ScriptRequest.bash("exit 3")).build());
    perWorker.put(
        WorkerId.of("broken"),
        policy().healthScript(ScriptRequest.bash("echo 'docker is down' >&2; exit 1")).build());
    monitor =
        HealthMonitor.builder(store, List.of(transport))
            .policies(HealthPolicyResolver.perPoolAndWorker(Map.of(), perWorker, policy().build()))
            .build()
            .start();
    for (WorkerId id : perWorker.keySet()) {
      store.putWorker(local(id.value()));
    }
    HealthReport ok = awaitReport(WorkerId.of("ok"));
    assertThat(ok.status()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(ok.details()).containsKey("freeDiskBytes");
    assertThat(awaitReport(WorkerId.of("script-ok")).status()).isEqualTo(HealthStatus.HEALTHY);
    HealthReport warns = awaitReport(WorkerId.of("warns"));
    assertThat(warns.status()).isEqualTo(HealthStatus.HAS_WARNINGS);
    assertThat(warns.message()).contains("inode usage 95%");
    assertThat(awaitReport(WorkerId.of("warn-code")).status()).isEqualTo(HealthStatus.HAS_WARNINGS);
    HealthReport broken = awaitReport(WorkerId.of("broken"));
    assertThat(broken.status()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(broken.message()).contains("docker is down");
    HealthSummary.PoolHealth pool = monitor.summary().pool(store.infrastructure().defaultPool());
    assertThat(pool.count(HealthStatus.HEALTHY)).isEqualTo(2);
    assertThat(pool.count(HealthStatus.HAS_WARNINGS)).isEqualTo(2);
    assertThat(pool.count(HealthStatus.UNHEALTHY)).isEqualTo(1);
    // On demand, through the real transport again.
    HealthReport again =
        monitor.check(WorkerId.of("broken")).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(again.status()).isEqualTo(HealthStatus.UNHEALTHY);
  }

  @Test
  void lowDiskSpaceUnderTheWorkDirectoryIsAWarning() {
    transport =
        LocalProcessTransport.builder()
            .baseDirectory(base)
            .lowDiskSpaceBytes(Long.MAX_VALUE)
            .build();
    monitor =
        HealthMonitor.builder(store, List.of(transport)).policy(policy().build()).build().start();
    Worker w = local("w1");
    store.putWorker(w);
    HealthReport r = awaitReport(w.id());
    assertThat(r.status()).isEqualTo(HealthStatus.HAS_WARNINGS);
    assertThat(r.message()).contains("MiB free");
  }

  @Test
  void aHealthScriptThatHangsIsTimedOutAndCountsAsAFailure() throws Exception {
    transport = LocalProcessTransport.builder().baseDirectory(base).build();
    Path marker = Files.createTempFile(base, "hang", ".txt");
    HealthPolicy hanging =
        policy()
            .timeout(Duration.ofMillis(700))
            // The script's own timeout is long, so only the monitor's timeout can end the check.
            .healthScript(
                ScriptRequest.builder(ScriptSyntax.BASH, "echo started > \"$1\"; sleep 30")
                    .arguments(marker.toString())
                    .timeout(Duration.ofSeconds(60))
                    .build())
            .build();
    monitor = HealthMonitor.builder(store, List.of(transport)).policy(hanging).build().start();
    Worker w = local("w1");
    store.putWorker(w);
    HealthReport r = awaitReport(w.id());
    assertThat(r.status()).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(r.message()).contains("no answer within PT0.7S");
    assertThat(monitor.stats().timedOut()).isEqualTo(1);
    assertThat(monitor.stats().inFlight()).isZero();
    Await.until(
        "the health script really ran",
        Duration.ofSeconds(10),
        () -> {
          try {
            return Files.readString(marker).contains("started");
          } catch (java.io.IOException e) {
            return false;
          }
        });
  }
}
