package io.workerpools.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.transport.LogLine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The ledger's own checks, fed by hand: a soak that passes proves something only if the ledger
 * would have caught each breach. Each property names the breach it must catch.
 */
class LedgerProperties {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final PoolId DEFAULT = Infrastructure.DEFAULT_POOL_ID;

  private static Worker worker(String id, int cap, String... pools) {
    Worker.Builder b = Worker.builder(id).endpoint(Endpoint.of("t", id)).maxConcurrentSteps(cap);
    for (String p : pools) {
      b.pool(p);
    }
    return b.build();
  }

  private static LeaseRecord lease(String id, WorkerId w, PoolId pool) {
    return new LeaseRecord(id, w, pool, "n", "step-" + id, T0, T0.plusSeconds(60));
  }

  private static Ledger ledger(Path tokens) {
    return new Ledger(tokens, Infrastructure.initial());
  }

  /** A tokens directory that does not exist: no script ran (most properties need no files). */
  private static Path tempDir() {
    return Path.of(
        System.getProperty("java.io.tmpdir"), "ledger-props-" + java.util.UUID.randomUUID());
  }

  private static void deleteTree(Path dir) throws IOException {
    try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Store changes: 0 w joins default, 1 w leaves it, 2 default moved to p, 3 back, 4 lease. */
  @Provide
  Arbitrary<List<Integer>> defaultPoolHistory() {
    return Arbitraries.integers().between(0, 4).list().ofMinSize(1).ofMaxSize(30);
  }

  @Property(tries = 200)
  void aBuiltInLeaseIsFlaggedExactlyWhenTheDefaultPoolHeldAWorkerAtThatPointOfTheStoreOrder(
      @ForAll("defaultPoolHistory") List<Integer> ops) {
    Ledger l = ledger(tempDir());
    boolean member = false;
    boolean moved = false;
    int expected = 0;
    int n = 0;
    Worker inDefault = worker("w", 2, "default");
    Worker notInDefault = worker("w", 2, "p");
    l.onEvent(new StoreEvent.WorkerPut(null, notInDefault));
    for (int op : ops) {
      switch (op) {
        case 0 -> {
          l.onEvent(new StoreEvent.WorkerPut(notInDefault, inDefault));
          member = true;
        }
        case 1 -> {
          l.onEvent(new StoreEvent.WorkerPut(inDefault, notInDefault));
          member = false;
        }
        case 2 -> {
          if (!moved) {
            l.onEvent(new StoreEvent.DefaultPoolMoved(DEFAULT, PoolId.of("p")));
            moved = true;
          }
        }
        case 3 -> {
          if (moved) {
            l.onEvent(new StoreEvent.DefaultPoolMoved(PoolId.of("p"), DEFAULT));
            moved = false;
          }
        }
        default -> {
          PoolId current = moved ? PoolId.of("p") : DEFAULT;
          LeaseRecord r = lease("b" + n++, Worker.BUILT_IN_ID, current);
          l.onEvent(new StoreEvent.LeaseAcquired(r));
          // w sits either in p or in default: the default pool holds it when they agree
          boolean occupied = moved != member;
          if (occupied) {
            expected++;
          }
          l.onEvent(new StoreEvent.LeaseEnded(r, false));
        }
      }
    }
    long flagged =
        l.violationsSoFar().stream().filter(v -> v.contains("while the default pool")).count();
    assertThat(flagged).isEqualTo(expected);
  }

  @Property(tries = 200)
  void aWorkerHoldingMoreLeasesThanItsCapIsAlwaysFlaggedAndNeverOtherwise(
      @ForAll @IntRange(min = 1, max = 4) int cap,
      @ForAll("acquireOrRelease") List<Boolean> acquire) {
    Ledger l = ledger(tempDir());
    Worker w = worker("w", cap, "p");
    l.onEvent(new StoreEvent.WorkerPut(null, w));
    List<LeaseRecord> open = new ArrayList<>();
    int n = 0;
    int expected = 0;
    for (boolean a : acquire) {
      if (a) {
        LeaseRecord r = lease("l" + n++, w.id(), PoolId.of("p"));
        open.add(r);
        l.onEvent(new StoreEvent.LeaseAcquired(r));
        if (open.size() > cap) {
          expected++;
        }
      } else if (!open.isEmpty()) {
        l.onEvent(new StoreEvent.LeaseEnded(open.remove(0), false));
      }
    }
    long flagged = l.violationsSoFar().stream().filter(v -> v.contains("above its cap")).count();
    assertThat(flagged).isEqualTo(expected);
    assertThat(l.openLeaseCount()).isEqualTo(open.size());
  }

  @Provide
  Arbitrary<List<Boolean>> acquireOrRelease() {
    return Arbitraries.of(true, true, false).list().ofMaxSize(40);
  }

  @Property(tries = 100)
  void aStepWithoutATerminalStatusIsLostAndOneWithTwoIsFlagged(
      @ForAll @IntRange(min = 1, max = 20) int steps,
      @ForAll @IntRange(min = 0, max = 20) int withoutResult,
      @ForAll @IntRange(min = 0, max = 5) int twice) {
    Ledger l = ledger(tempDir());
    int missing = Math.min(withoutResult, steps);
    int doubled = Math.min(twice, steps - missing);
    for (int i = 0; i < steps; i++) {
      String id = "s" + i;
      l.planned(new Ledger.Plan(id, "node-1", 0, 0, false, Optional.empty(), 0));
      if (i < missing) {
        continue;
      }
      StepResult r = nowhere(id);
      l.resultCompleted(r);
      l.onFinished(null, r);
      if (i < missing + doubled) {
        l.resultCompleted(r);
      }
    }
    Ledger.Verdict v = l.verify(Map.of());
    assertThat(v.lost()).isEqualTo(missing);
    assertThat(v.completedTwice()).isEqualTo(doubled);
    assertThat(v.clean()).isEqualTo(missing == 0 && doubled == 0);
  }

  private static StepResult nowhere(String id) {
    return new StepResult(
        id,
        StepResult.Status.NOWHERE_TO_RUN,
        OptionalInt.empty(),
        Optional.empty(),
        Optional.empty(),
        Duration.ZERO,
        "none",
        Optional.empty());
  }

  @Property(tries = 200)
  void logLinesPassOnlyWhenEachArrivesOnceAndInOrder(
      @ForAll @IntRange(min = 0, max = 12) int n, @ForAll("edits") List<Integer> edits) {
    List<LogLine> lines = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      lines.add(new LogLine(T0, LogLine.Source.STDOUT, "line-" + i + " tok"));
    }
    List<LogLine> original = List.copyOf(lines);
    for (int e : edits) {
      if (lines.isEmpty()) {
        break;
      }
      int at = Math.floorMod(e, lines.size());
      if (e % 3 == 0) {
        lines.remove(at); // a line lost
      } else if (e % 3 == 1) {
        lines.add(at, lines.get(at)); // a line delivered twice
      } else {
        lines.add(lines.remove(at)); // a line out of order
      }
    }
    if (n > 0) {
      lines.add(new LogLine(T0, LogLine.Source.STDERR, "stderr-line tok"));
    }
    boolean intact = stdout(lines).equals(original);
    assertThat(Ledger.checkLines("tok", n, lines) == null).isEqualTo(intact);
  }

  @Provide
  Arbitrary<List<Integer>> edits() {
    return Arbitraries.integers().between(0, 1000).list().ofMaxSize(2);
  }

  private static List<LogLine> stdout(List<LogLine> lines) {
    return lines.stream().filter(l -> l.source() == LogLine.Source.STDOUT).toList();
  }

  @Example
  void aScriptThatRanTwiceForOneStartIsFlaggedAndOneThatRanElsewhereToo() throws IOException {
    Path tokens = Files.createTempDirectory("ledger-tokens");
    Path homeA = Files.createTempDirectory("ledger-home");
    try {
      checkRuns(tokens, homeA);
    } finally {
      deleteTree(tokens);
      deleteTree(homeA);
    }
  }

  private static void checkRuns(Path tokens, Path homeA) throws IOException {
    Ledger l = ledger(tokens);
    Map<WorkerId, Path> homes = new HashMap<>();
    homes.put(WorkerId.of("a"), homeA);
    for (String id : List.of("once", "twice", "elsewhere")) {
      l.planned(new Ledger.Plan(id, "node-1", 0, 0, false, Optional.empty(), 0));
      StepResult r =
          new StepResult(
              id,
              StepResult.Status.SUCCEEDED,
              OptionalInt.of(0),
              Optional.of(WorkerId.of("a")),
              Optional.of(PoolId.of("p")),
              Duration.ZERO,
              "",
              Optional.empty());
      l.resultCompleted(r);
      l.onFinished(null, r);
    }
    Files.writeString(tokens.resolve("once"), "once " + homeA.resolve("w1") + "\n");
    Files.writeString(
        tokens.resolve("twice"),
        "twice " + homeA.resolve("w2") + "\ntwice " + homeA.resolve("w3") + "\n");
    Files.writeString(tokens.resolve("elsewhere"), "elsewhere /somewhere/else\n");
    Ledger.Verdict v = l.verify(homes);
    assertThat(v.ranOnBuiltIn()).isZero();
    assertThat(v.ranTwice()).isEqualTo(1);
    assertThat(v.ranElsewhere()).isEqualTo(1);
    assertThat(v.violations()).anyMatch(s -> s.startsWith("step twice ran 2 times"));
  }

  @Example
  void aStepThatRanOnTheBuiltInWorkerIsCheckedAgainstTheDefaultPoolAtItsLeaseGrant()
      throws IOException {
    Path tokens = Files.createTempDirectory("ledger-tokens");
    Path host = Files.createTempDirectory("ledger-host");
    try {
      Ledger l = ledger(tokens);
      Map<WorkerId, Path> homes = Map.of(Worker.BUILT_IN_ID, host);
      // "early" was granted while the default pool was empty, "late" after a worker joined it,
      // "stray" never had a built-in lease at all.
      l.onEvent(
          new StoreEvent.LeaseAcquired(
              new LeaseRecord("1", Worker.BUILT_IN_ID, DEFAULT, "n", "early", T0, T0)));
      l.onEvent(new StoreEvent.WorkerPut(null, worker("w", 1, "default")));
      l.onEvent(
          new StoreEvent.LeaseAcquired(
              new LeaseRecord("2", Worker.BUILT_IN_ID, DEFAULT, "n", "late", T0, T0)));
      for (String id : List.of("early", "late", "stray")) {
        l.planned(new Ledger.Plan(id, "node-1", 0, 0, false, Optional.empty(), 0));
        StepResult r =
            new StepResult(
                id,
                StepResult.Status.SUCCEEDED,
                OptionalInt.of(0),
                Optional.of(Worker.BUILT_IN_ID),
                Optional.of(DEFAULT),
                Duration.ZERO,
                "",
                Optional.empty());
        l.resultCompleted(r);
        l.onFinished(null, r);
        Files.writeString(tokens.resolve(id), id + " " + host.resolve(id) + "\n");
      }
      Ledger.Verdict v = l.verify(homes);
      assertThat(v.ranOnBuiltIn()).isEqualTo(3);
      assertThat(v.violations())
          .anyMatch(s -> s.startsWith("step late ran on the built-in worker under a lease granted"))
          .anyMatch(s -> s.startsWith("step stray ran on the built-in worker without"))
          .noneMatch(s -> s.startsWith("step early"));
    } finally {
      deleteTree(tokens);
      deleteTree(host);
    }
  }

  @Example
  void aLeaseThatExpiresUnderARunningStepIsFlagged() {
    Ledger l = ledger(tempDir());
    Worker w = worker("w", 2, "p");
    l.onEvent(new StoreEvent.WorkerPut(null, w));
    LeaseRecord r = lease("x", w.id(), PoolId.of("p"));
    l.onEvent(new StoreEvent.LeaseAcquired(r));
    l.onStarted(
        io.workerpools.dispatch.Step.builder(
                "step-x", io.workerpools.transport.ScriptRequest.bash("true"))
            .build(),
        new FixedLease(r, w));
    l.onEvent(new StoreEvent.LeaseEnded(r, true));
    assertThat(l.violationsSoFar())
        .anyMatch(v -> v.contains("expired although its holder was alive"));
  }

  /** A lease as the dispatcher hands it to listeners. */
  record FixedLease(LeaseRecord record, Worker worker) implements io.workerpools.lease.WorkerLease {
    @Override
    public String id() {
      return record.leaseId();
    }

    @Override
    public PoolId pool() {
      return record.pool();
    }

    @Override
    public String stepId() {
      return record.stepId();
    }

    @Override
    public Instant acquiredAt() {
      return record.acquiredAt();
    }

    @Override
    public boolean isReleased() {
      return false;
    }

    @Override
    public void close() {}
  }
}
