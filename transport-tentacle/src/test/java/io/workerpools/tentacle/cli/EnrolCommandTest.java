package io.workerpools.tentacle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.tentacle.AgentTrust;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.tentacle.enrol.EnrolmentListener;
import io.workerpools.tentacle.enrol.EnrolmentToken;
import io.workerpools.tentacle.enrol.EnrolmentTokens;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code enrol} as an operator runs it, against a real enrolment port: the token comes from a file
 * or the environment (never argv), the host records the worker and the agent stores the host's
 * thumbprint; a used token is refused; the token's secret is never printed.
 */
class EnrolCommandTest {
  static final TentacleCertificate HOST = TentacleCertificate.generate("cli-enrol-host");

  @TempDir Path dir;

  @Test
  void enrolWithATokenFromAFileOrTheEnvironmentJoinsThePoolAndAUsedTokenIsRefused()
      throws Exception {
    InMemoryInfrastructureStore store =
        new InMemoryInfrastructureStore(
            Infrastructure.initial().withPool(WorkerPool.of("linux", "Linux")));
    EnrolmentTokens tokens = EnrolmentTokens.inMemory(HOST.thumbprint());
    try (TentacleTransport transport =
            TentacleTransport.builder(HOST)
                .pollingListener(new InetSocketAddress("127.0.0.1", 0))
                .build();
        EnrolmentListener listener =
            EnrolmentListener.builder(HOST, tokens, EnrolmentListener.recordingIn(store, transport))
                .start()) {
      String server = "127.0.0.1:" + listener.address().getPort();
      EnrolmentToken token = tokens.issue(PoolId.of("linux"), Duration.ofMinutes(10));
      String secret = token.text().split("\\.")[2];
      Path file = dir.resolve("token");
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, token.text() + "\n");
      String home = dir.resolve("home").toString();

      AgentCli.Run enrolled =
          AgentCli.run(
              dir,
              "--home",
              home,
              "enrol",
              "--server",
              server,
              "--token-file",
              file.toString(),
              "--pool",
              "linux");
      assertThat(enrolled.exit()).as("%s", enrolled).isZero();
      assertThat(enrolled.out())
          .contains("pool: linux")
          .contains("subscription: ")
          .contains("trusted host: " + HOST.thumbprint());
      assertThat(AgentTrust.of(dir.resolve("home")).thumbprints())
          .extracting(String::toUpperCase)
          .containsExactly(HOST.thumbprint());
      assertThat(store.infrastructure().workersIn(PoolId.of("linux"))).hasSize(1);
      assertThat(enrolled.out() + enrolled.err()).doesNotContain(secret);

      // Another agent with the used token (the same agent retrying is answered alike, by design).
      AgentCli.Run replay =
          AgentCli.run(
              dir,
              "--home",
              dir.resolve("other").toString(),
              "register",
              "--server",
              server,
              "--token-file",
              file.toString());
      assertThat(replay.exit()).as("%s", replay).isEqualTo(Cli.FAILED);
      assertThat(replay.err()).contains("the host refused the enrolment").doesNotContain(secret);

      EnrolmentToken second = tokens.issue(PoolId.of("linux"), Duration.ofMinutes(10));
      AgentCli.Run fromEnv =
          AgentCli.run(
              dir,
              Map.of("WP_TOKEN", second.text()),
              "--home",
              dir.resolve("home2").toString(),
              "enrol",
              "--server",
              server,
              "--token-env",
              "WP_TOKEN");
      assertThat(fromEnv.exit()).as("%s", fromEnv).isZero();
      assertThat(store.infrastructure().workersIn(PoolId.of("linux"))).hasSize(2);

      AgentCli.Run inArgv =
          AgentCli.run(dir, "--home", home, "enrol", "--server", server, "--token", "x");
      assertThat(inArgv.exit())
          .as("no option takes a token on the command line")
          .isEqualTo(Cli.USAGE);
      AgentCli.Run none = AgentCli.run(dir, "--home", home, "enrol", "--server", server);
      assertThat(none.exit()).isEqualTo(Cli.USAGE);
      assertThat(none.err()).contains("--token-file").contains("--token-stdin");
    }
  }
}
