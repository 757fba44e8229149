package io.workerpools.tentacle;

import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.testing.Await;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptResult;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLSocket;

/** Helpers shared by the tests: condition waits (never sleeps), workers, raw TLS clients. */
final class TestSupport {
  static final TentacleCertificate HOST = TentacleCertificate.generate("test-host");

  private TestSupport() {}

  /** Polls a condition until it holds or the deadline passes. */
  static void awaitUntil(Duration timeout, BooleanSupplier condition, String what) {
    Await.until(what, timeout, condition);
  }

  static Worker listeningWorker(String id, InetSocketAddress a, String thumbprint) {
    return Worker.builder(id)
        .pool("p")
        .endpoint(
            Endpoint.of(
                TentacleTransport.LISTENING,
                "https://127.0.0.1:" + a.getPort(),
                Map.of("thumbprint", thumbprint)))
        .build();
  }

  static Worker pollingWorker(String id, String subscription, String thumbprint) {
    return Worker.builder(id)
        .pool("p")
        .endpoint(
            Endpoint.of(
                TentacleTransport.POLLING,
                "poll://" + subscription,
                Map.of("thumbprint", thumbprint)))
        .build();
  }

  static ScriptResult result(io.workerpools.transport.ScriptExecution e, Duration timeout)
      throws Exception {
    return e.result().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A sink that keeps lines. */
  static final class Lines implements LogSink {
    final List<LogLine> lines = new CopyOnWriteArrayList<>();

    @Override
    public void onLine(LogLine line) {
      lines.add(line);
    }

    List<String> texts() {
      return lines.stream().map(LogLine::text).toList();
    }
  }

  /** A raw TLS client to a listening agent, after handshake and preamble. */
  static final class RawClient implements AutoCloseable {
    final SSLSocket socket;
    final InputStream in;

    RawClient(InetSocketAddress a, String agentThumbprint) throws IOException {
      socket =
          (SSLSocket)
              PinnedTls.context(HOST, () -> Set.of(agentThumbprint))
                  .getSocketFactory()
                  .createSocket(a.getAddress(), a.getPort());
      socket.setSoTimeout(10_000);
      in = new BufferedInputStream(socket.getInputStream());
      Frames.writeLine(socket.getOutputStream(), Frames.PROTOCOL + " CLIENT");
      String ok = Frames.readLine(in);
      if (!ok.startsWith("OK")) {
        throw new IOException(ok);
      }
    }

    byte[] call(byte[] frame) throws IOException {
      Frames.write(socket.getOutputStream(), frame);
      return Frames.read(in, Frames.DEFAULT_MAX_FRAME_BYTES);
    }

    String callText(String json) throws IOException {
      byte[] r = call(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return r == null ? null : new String(r, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
