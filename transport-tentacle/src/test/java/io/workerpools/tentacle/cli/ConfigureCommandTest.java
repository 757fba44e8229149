package io.workerpools.tentacle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.tentacle.AgentTrust;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code configure --trust/--remove-trust} edits the trust stored in the home, and {@code listen}
 * starts on it without any {@code --trust} flag. (That a running agent applies a change and cuts a
 * removed host is proven by {@code StoredTrustTest}.)
 */
class ConfigureCommandTest {
  private static final String A = "A".repeat(64);
  private static final String B = "b".repeat(64);

  @TempDir Path dir;

  @Test
  void configureAddsListsAndRemovesStoredThumbprintsAndListenStartsOnThem() throws Exception {
    String home = dir.resolve("home").toString();
    AgentCli.Run empty = AgentCli.run(dir, "--home", home, "configure");
    assertThat(empty.exit()).as("%s", empty).isZero();
    assertThat(empty.out()).isEmpty();
    assertThat(empty.err())
        .contains("no stored thumbprints in " + dir.resolve("home/trusted-hosts"));

    AgentCli.Run add = AgentCli.run(dir, "--home", home, "configure", "--trust", A, "--trust", B);
    assertThat(add.exit()).as("%s", add).isZero();
    assertThat(add.outLines()).containsExactly("trusted " + A, "trusted " + B.toUpperCase());
    assertThat(AgentTrust.of(dir.resolve("home")).thumbprints()).hasSize(2);
    AgentCli.Run again = AgentCli.run(dir, "--home", home, "configure", "--trust", A);
    assertThat(again.outLines()).containsExactly("already trusted " + A);

    AgentCli.Run list = AgentCli.run(dir, "--home", home, "configure");
    assertThat(list.outLines()).hasSize(2);
    assertThat(String.join(",", list.outLines()).toUpperCase()).contains(A, B.toUpperCase());

    AgentCli.Run remove = AgentCli.run(dir, "--home", home, "configure", "--remove-trust", B);
    assertThat(remove.exit()).isZero();
    assertThat(remove.outLines()).containsExactly("removed " + B.toUpperCase());
    assertThat(AgentTrust.of(dir.resolve("home")).thumbprints()).hasSize(1);

    AgentCli.Run bad = AgentCli.run(dir, "--home", home, "configure", "--trust", "xyz");
    assertThat(bad.exit()).as("%s", bad).isEqualTo(Cli.USAGE);
    assertThat(bad.err()).contains("'xyz' is not a SHA-256 thumbprint");

    // No --trust: the stored thumbprint is enough to start.
    Process p = AgentCli.start(dir, java.util.Map.of(), "--home", home, "listen", "--port", "0");
    try {
      long deadline = System.nanoTime() + 60_000_000_000L;
      String out = "";
      while (!out.contains("listening on ") && p.isAlive() && System.nanoTime() < deadline) {
        p.waitFor(50, java.util.concurrent.TimeUnit.MILLISECONDS);
        out = java.nio.file.Files.readString(dir.resolve("stdout.txt"));
      }
      assertThat(out).as("started on stored trust: %s", out).contains("listening on 127.0.0.1:");
    } finally {
      p.destroy();
      p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
    }
    assertThat(AgentCli.collect(dir, p).err()).contains("trusting 1 host thumbprint(s) (0 given");
  }
}
