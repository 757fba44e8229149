package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process agent's view of its stored trust while it runs. */
class LiveTrustTest {
  @TempDir Path home;

  static String thumb(int i) {
    return String.format("%064X", i + 1);
  }

  @Test
  void theRunningAgentSeesEveryStoredChangeAndFailsClosedOnABadFile() throws Exception {
    AgentTrust stored = AgentTrust.of(home);
    stored.add(thumb(1));
    try (TentacleAgent agent =
        TentacleAgent.builder(home).trust(thumb(9)).listen("127.0.0.1", 0).start()) {
      assertThat(agent.trustedHosts()).containsExactlyInAnyOrder(thumb(1), thumb(9));
      stored.add(thumb(2));
      assertThat(agent.trustedHosts()).containsExactlyInAnyOrder(thumb(1), thumb(2), thumb(9));
      stored.remove(thumb(1));
      stored.remove(thumb(9)); // a flag's thumbprint is not stored: it stays trusted
      assertThat(agent.trustedHosts()).containsExactlyInAnyOrder(thumb(2), thumb(9));
      Files.writeString(stored.file(), thumb(2) + "\ngarbage\n");
      assertThat(agent.trustedHosts()).as("fails closed to the flags").containsExactly(thumb(9));
      // add refuses to rewrite a file it cannot read (it would drop what it cannot parse)
      assertThatThrownBy(() -> stored.add(thumb(3)))
          .hasMessageContaining(stored.file() + " line 2");
      Files.delete(stored.file());
      stored.add(thumb(3));
      awaitUntil(
          Duration.ofSeconds(5),
          () -> agent.trustedHosts().equals(java.util.Set.of(thumb(3), thumb(9))),
          "the fixed file is trusted again");
    }
  }
}
