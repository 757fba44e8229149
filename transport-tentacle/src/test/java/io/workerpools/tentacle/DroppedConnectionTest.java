package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Worker;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection dropped while a start is in flight: the retried start never runs the script twice.
 */
class DroppedConnectionTest {
  @TempDir Path home;

  @Test
  void aStartRetriedAfterADroppedConnectionNeverRunsTheScriptTwice() throws Exception {
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
      // The start call is held open on the agent (no output until the end), so the cut below
      // happens while the start is in flight: a transferring failure.
      ScriptRequest req = ScriptRequest.bash("echo run >> '" + counter + "'; sleep 1.5");
      var exec = transport.start(w, req, l -> {});
      awaitUntil(Duration.ofSeconds(15), () -> Files.exists(counter), "the script started");
      proxy.cutAll();
      ScriptResult r = result(exec, Duration.ofSeconds(30));
      assertThat(r.succeeded()).as("result %s", r).isTrue();
      assertThat(Files.readAllLines(counter)).containsExactly("run");
    }
  }
}
