package io.workerpools.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.dispatch.StepResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The soak: thousands of steps through three pools of agent processes and the built-in worker while
 * faults are injected at random, then the ledger. Light by default (see {@link SoakConfig#quick});
 * {@code -Dworkerpools.soak=long} (or {@code -Psoak}) runs the 10,000 steps. The seed is
 * printed; {@code -Dworkerpools.soak.seed=N} repeats the step mix and fault sequence (not the
 * threads' interleaving). The summary is printed and written to {@code
 * target/soak-summary-<mode>.txt}.
 */
class SoakTest {

  @Test
  void underLoadAndFaultsNothingIsLostNothingRunsTwiceAndNothingLeaks() throws Exception {
    SoakConfig config = SoakConfig.fromSystemProperties();
    System.out.println(
        "soak: mode "
            + config.mode()
            + ", seed "
            + config.seed()
            + ", "
            + config.steps()
            + " steps");
    SoakRun.Summary s = new SoakRun(config, System.out).run();
    String text = s.format();
    System.out.println(text);
    writeSummary(config.mode(), text);

    Ledger.Verdict v = s.verdict();
    assertThat(v.violations()).as("invariant breaches (see the summary above)").isEmpty();
    assertThat(v.lost()).isZero();
    assertThat(v.completedTwice()).isZero();
    assertThat(v.ranTwice()).isZero();
    assertThat(v.terminal()).isEqualTo(v.planned());
    assertThat(s.leasesLeftInStore()).as("leases held at the end").isZero();
    assertThat(s.leakedThreads()).as("threads left running after shutdown").isEmpty();
    assertThat(s.leakedFds()).as("file descriptors left open after shutdown").isEmpty();

    // The run exercised what it claims to: load, every kind of fault, both rules, the TTL.
    assertThat(v.planned()).isGreaterThanOrEqualTo(Math.min(config.steps(), 100));
    if (config.faults()) {
      assertThat(s.faults().values()).as("every kind of fault injected").allMatch(n -> n > 0);
      assertThat(s.leases().get("default pool occupied periods"))
          .as("the default pool held a worker at times")
          .isPositive();
    } else {
      assertThat(s.faults().values()).as("no fault injected").allMatch(n -> n == 0);
    }
    assertThat(v.byStatus().getOrDefault(StepResult.Status.SUCCEEDED, 0))
        .as("most steps succeed")
        .isGreaterThan(v.planned() / 2);
    assertThat(s.leases().get("on the built-in worker")).as("rule 1 exercised").isPositive();
    assertThat(s.orphansExpired())
        .as("every lease a dropped node held was reclaimed by TTL")
        .isEqualTo(s.orphansTaken());
    assertThat(s.maxLeasesSeen().entrySet())
        .allMatch(
            e ->
                e.getKey().equals(io.workerpools.model.Worker.BUILT_IN_ID)
                    || e.getValue() <= config.workerCap());
    assertThat(s.actionMaxSeen().values()).allMatch(n -> n <= 2);
  }

  private static void writeSummary(String mode, String text) throws IOException {
    Path target = Path.of("target");
    if (Files.isDirectory(target)) {
      Files.writeString(
          target.resolve("soak-summary-" + mode + ".txt"), text, StandardCharsets.UTF_8);
    }
  }
}
