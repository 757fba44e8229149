package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the container transport does beyond the shared contract. */
class ContainerTransportTest {
  @TempDir Path dir;

  @Test
  void anImageTheEngineCannotRunIsReportedAsCouldNotStartNotAsTheScriptsFailure() throws Exception {
    try (ContainerCliStandIn cli = new ContainerCliStandIn();
        ContainerTransport t = ContainerTransport.builder().cli(cli.cli()).build()) {
      Worker w = ContainerTransport.worker("w", "missing:image").pool("default").build();
      ScriptResult r =
          t.start(w, ScriptRequest.bash("echo hi"), LogSink.discard())
              .result()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
      assertThat(r.message()).contains("exit 125");
    }
  }

  @Test
  void aMissingCliMakesTheWorkerUnavailableWithTheReason() throws Exception {
    String missing = dir.resolve("no-such-docker").toString();
    try (ContainerTransport t = ContainerTransport.builder().cli(missing).build()) {
      Worker w = ContainerTransport.worker("w", "ubuntu:24.04").pool("default").build();
      HealthReport h =
          t.checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(10)))
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertThat(h.status()).isEqualTo(HealthStatus.UNAVAILABLE);
      assertThat(h.message()).contains("cannot run '" + missing + "'");
      ScriptResult r =
          t.start(w, ScriptRequest.bash("echo hi"), LogSink.discard())
              .result()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
    }
  }

  @Test
  void badOptionsAreRejectedNamingThem() {
    assertThatThrownBy(() -> ContainerTransport.builder().cli(" "))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("containerTransport.cli:");
    try (ContainerTransport t = ContainerTransport.builder().cli("docker").build()) {
      Worker w = ContainerTransport.worker("w", "--privileged").pool("default").build();
      assertThatThrownBy(() -> t.start(w, ScriptRequest.bash("true"), LogSink.discard()))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("worker w.endpoint.address")
          .hasMessageContaining("container image");
    }
  }
}
