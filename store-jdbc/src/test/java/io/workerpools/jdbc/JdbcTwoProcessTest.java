package io.workerpools.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Endpoint;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.testing.Await;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Host nodes in two JVM processes on one PostgreSQL database. */
@ExtendWith(PostgresExtension.class)
class JdbcTwoProcessTest {
  static final PoolId POOL = PoolId.of("shared");

  /** A child JVM running {@link NodeMain}, its stdout collected line by line. */
  static final class Child implements AutoCloseable {
    final Process process;
    final List<String> lines = new CopyOnWriteArrayList<>();
    final Thread reader;

    Child(String... args) throws Exception {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add("-Xmx128m");
      cmd.add(NodeMain.class.getName());
      cmd.addAll(List.of(args));
      process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    lines.add(line);
                  }
                } catch (Exception ignored) {
                  // the process died; the test checks what arrived
                }
              },
              "child-stdout");
      reader.setDaemon(true);
      reader.start();
    }

    boolean printed(String prefix) {
      return lines.stream().anyMatch(l -> l.startsWith(prefix));
    }

    String line(String prefix) {
      return lines.stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow();
    }

    @Override
    public void close() throws Exception {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  static Worker worker(String id, int cap) {
    return Worker.builder(id)
        .endpoint(Endpoint.of("ssh", id + ":22"))
        .pool(POOL)
        .maxConcurrentSteps(cap)
        .build();
  }

  @Test
  void twoProcessesHammeringOnePoolNeverExceedACapAndLoseNoLease(TestDatabase db) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try (JdbcInfrastructureStore store = db.newStore("parent")) {
      store.putPool(new WorkerPool(POOL, "Shared", ""));
      store.putWorker(worker("w1", 1));
      store.putWorker(worker("w2", 2));
      try (Child child = new Child("hammer", db.url(), "shared", "w1,w2", "150", "child")) {
        Await.until("the child is ready", Duration.ofSeconds(30), () -> child.printed("READY"));
        List<LeaseWitness.Held> held = new CopyOnWriteArrayList<>();
        List<Future<Hammer.Result>> runs = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
          runs.add(
              threads.submit(
                  () -> Hammer.run(store, "parent", POOL, List.of("w1", "w2"), 2, 150, held::add)));
        }
        for (Future<Hammer.Result> f : runs) {
          Hammer.Result r = f.get(90, TimeUnit.SECONDS);
          assertThat(r.releasedFalse()).isZero();
          assertThat(r.releasedTrue()).isEqualTo(r.granted());
        }
        Await.until("the child is done", Duration.ofSeconds(90), () -> child.printed("DONE"));
        String[] done = child.line("DONE").split(" ");
        assertThat(Integer.parseInt(done[1])).as("child granted").isPositive();
        assertThat(done[3]).as("child releases true").isEqualTo(done[1]);
        assertThat(done[4]).as("child releases false").isEqualTo("0");
        child.lines.stream()
            .filter(l -> l.startsWith("HELD "))
            .map(LeaseWitness.Held::parse)
            .forEach(held::add);
        assertThat(held.size()).isGreaterThan(Integer.parseInt(done[1]));
        var max = LeaseWitness.maxConcurrent(held);
        assertThat(max.get("w1")).isEqualTo(1);
        assertThat(max.get("w2")).isLessThanOrEqualTo(2);
        assertThat(child.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.process.exitValue()).isZero();
      }
      assertThat(store.leases()).isEmpty();
      assertThat(JdbcMultiNodeTest.activeCounters(db)).containsOnly(0);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void aKilledNodesLeasesExpireAndItsWorkersAreLeasedAgain(TestDatabase db) throws Exception {
    try (JdbcInfrastructureStore survivor = db.newStore("survivor")) {
      List<StoreEvent> events = new CopyOnWriteArrayList<>();
      survivor.subscribe(events::add);
      survivor.putPool(new WorkerPool(POOL, "Shared", ""));
      survivor.putWorker(worker("w1", 1));
      survivor.putWorker(worker("w2", 1));
      try (Child child = new Child("hold", db.url(), "shared", "w1,w2", "2", "doomed")) {
        Await.until(
            "the child holds both workers", Duration.ofSeconds(30), () -> child.printed("HOLDING"));
        assertThat(child.line("HOLDING")).isEqualTo("HOLDING 2");
        assertThat(survivor.tryAcquireLease(StoreContract.claimIn(POOL, "w1", "survivor")))
            .isEmpty();
        Await.until(
            "the survivor hears of the child's leases",
            () -> events.stream().filter(e -> e instanceof StoreEvent.LeaseAcquired).count() == 2);
        child.process.destroyForcibly();
        assertThat(child.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
      }
      List<LeaseRecord> expired = new CopyOnWriteArrayList<>();
      Await.until(
          "the dead node's leases expire",
          Duration.ofSeconds(15),
          () -> {
            expired.addAll(survivor.expireLeases(Instant.now()));
            return expired.size() == 2;
          });
      assertThat(expired).extracting(LeaseRecord::holder).containsOnly("doomed");
      assertThat(events)
          .filteredOn(e -> e instanceof StoreEvent.LeaseEnded l && l.expired())
          .hasSize(2);
      assertThat(survivor.tryAcquireLease(StoreContract.claimIn(POOL, "w1", "survivor")))
          .isPresent();
      assertThat(survivor.tryAcquireLease(StoreContract.claimIn(POOL, "w2", "survivor")))
          .isPresent();
    }
  }
}
