package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Worker;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Found by the soak suite: a start whose connection dropped after the request left (so the script
 * may run) and whose retry then met a connection reset during the TLS handshake (which the
 * transport then read as an authentication refusal; it now reads it as a retryable transport
 * failure) was reported as {@code COULD_NOT_START}, "never started", although the script ran, and
 * it was not cancelled. A start that may have arrived is a lost worker, however its retry fails,
 * and the transport tries to cancel it.
 */
class StartRetryRefusedTest {
  @TempDir Path home;

  @Test
  void aStartThatMayHaveArrivedIsAWorkerLostNeverCouldNotStartWhenItsRetryIsRefused()
      throws Exception {
    Path counter = home.resolve("runs");
    try (TentacleAgent agent =
            TentacleAgent.builder(home.resolve("agent"))
                .trust(HOST.thumbprint())
                .listen("127.0.0.1", 0)
                .start();
        TcpProxy proxy = new TcpProxy(agent.listeningAddress());
        TentacleTransport transport =
            TentacleTransport.builder(HOST)
                .retryWindow(Duration.ofSeconds(20))
                .statusHold(Duration.ofSeconds(10))
                .build()) {
      Worker w =
          TestSupport.listeningWorker(
              "via-proxy", new InetSocketAddress("127.0.0.1", proxy.port()), agent.thumbprint());
      // The start call is held open on the agent, so the cut happens while it is in flight.
      ScriptExecution exec =
          transport.start(
              w, ScriptRequest.bash("echo run >> '" + counter + "'; sleep 30"), l -> {});
      awaitUntil(Duration.ofSeconds(15), () -> Files.exists(counter), "the script started");
      proxy.cutAllAndResetNew();
      ScriptResult r = result(exec, Duration.ofSeconds(30));
      assertThat(r.outcome()).as("result %s", r).isEqualTo(ScriptResult.Outcome.WORKER_LOST);
      assertThat(Files.readAllLines(counter)).containsExactly("run");
    }
  }
}
