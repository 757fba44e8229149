package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;

import com.fasterxml.jackson.databind.JsonNode;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.tentacle.internal.Wire;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A listening "agent" that speaks the protocol over real mutual TLS (pinned to the test host) but
 * answers as a test tells it to: a malicious or buggy agent. It counts the requests by type.
 */
final class HostileAgent implements AutoCloseable {
  /** Writes the reply (or replies, or bytes) to one request. */
  @FunctionalInterface
  interface Responder {
    void answer(String type, JsonNode body, OutputStream out) throws IOException;
  }

  final TentacleCertificate cert = TentacleCertificate.generate("hostile-agent");
  private final SSLServerSocket server;
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final CopyOnWriteArrayList<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile Responder responder;

  HostileAgent(Responder responder) throws IOException {
    this.responder = responder;
    server =
        (SSLServerSocket)
            PinnedTls.context(cert, () -> Set.of(HOST.thumbprint()))
                .getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    server.setNeedClientAuth(true);
    server.setEnabledProtocols(PinnedTls.PROTOCOLS);
    Thread t = new Thread(this::acceptLoop, "hostile-agent");
    t.setDaemon(true);
    t.start();
  }

  InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  int count(String type) {
    AtomicInteger n = counts.get(type);
    return n == null ? 0 : n.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        sockets.add(s);
        Thread t = new Thread(() -> serve((SSLSocket) s), "hostile-agent-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(SSLSocket s) {
    try (s) {
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      Frames.readLine(in);
      Frames.writeLine(out, Frames.PROTOCOL + " OK");
      while (true) {
        byte[] frame = Frames.read(in, Frames.DEFAULT_MAX_FRAME_BYTES);
        if (frame == null) {
          return;
        }
        JsonNode req = Wire.MAPPER.readTree(frame);
        String type = req.path("type").asText();
        counts.computeIfAbsent(type, k -> new AtomicInteger()).incrementAndGet();
        responder.answer(type, req.path("body"), out);
        out.flush();
      }
    } catch (IOException e) {
      // the host closed it, or the test did
    }
  }

  /** A status reply as raw JSON (so that tests can break it). */
  static String status(String ticket, String state, String logs) {
    return "{\"type\":\"%TYPE%\",\"error\":null,\"body\":{\"ticket\":"
        + (ticket == null ? "null" : "\"" + ticket + "\"")
        + ",\"state\":"
        + (state == null ? "null" : "\"" + state + "\"")
        + ",\"outcome\":null,\"exitCode\":0,\"logs\":"
        + logs
        + ",\"nextSequence\":0,\"message\":\"\"}}";
  }

  static void reply(OutputStream out, String type, String json) throws IOException {
    Frames.write(
        out, json.replace("%TYPE%", type).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
