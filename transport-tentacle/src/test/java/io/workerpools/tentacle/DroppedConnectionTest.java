package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Worker;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection dropped while a start is in flight: the retried start never runs the script twice.
 */
class DroppedConnectionTest {
  @TempDir Path home;

  /** A TCP proxy on 127.0.0.1 whose connections can all be cut at once. */
  static final class Proxy implements AutoCloseable {
    final ServerSocket server;
    final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    final Thread acceptor;

    Proxy(InetSocketAddress target) throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      acceptor =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket client = server.accept();
                    Socket upstream = new Socket(target.getAddress(), target.getPort());
                    sockets.add(client);
                    sockets.add(upstream);
                    pump(client, upstream);
                    pump(upstream, client);
                  } catch (IOException e) {
                    return;
                  }
                }
              },
              "proxy-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    private void pump(Socket from, Socket to) {
      Thread t =
          new Thread(
              () -> {
                try (InputStream in = from.getInputStream()) {
                  OutputStream out = to.getOutputStream();
                  in.transferTo(out);
                } catch (IOException e) {
                  // cut
                } finally {
                  closeQuietly(from);
                  closeQuietly(to);
                }
              },
              "proxy-pump");
      t.setDaemon(true);
      t.start();
    }

    void cutAll() {
      sockets.forEach(Proxy::closeQuietly);
      sockets.clear();
    }

    int port() {
      return server.getLocalPort();
    }

    static void closeQuietly(Socket s) {
      try {
        s.close();
      } catch (IOException e) {
        // cut anyway
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      cutAll();
    }
  }

  @Test
  void aStartRetriedAfterADroppedConnectionNeverRunsTheScriptTwice() throws Exception {
    Path counter = home.resolve("runs");
    try (TentacleAgent agent =
            TentacleAgent.builder(home.resolve("agent"))
                .trust(HOST.thumbprint())
                .listen("127.0.0.1", 0)
                .start();
        Proxy proxy = new Proxy(agent.listeningAddress());
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
