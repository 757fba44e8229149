package io.workerpools.reliability.hostile;

import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.AgentWire;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.testing.Await;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;

/** Helpers shared by the hostile-input tests: waits, raw agent clients, process checks. */
final class Hostile {
  /** The host certificate every hostile test's agent trusts. */
  static final TentacleCertificate HOST = TentacleCertificate.generate("hostile-host");

  private Hostile() {}

  /** Bounded polling on a condition (never a fixed sleep). */
  static void awaitUntil(Duration limit, BooleanSupplier condition, String what) {
    Await.until(what, limit, condition);
  }

  /** A process is gone when /proc has no entry for it, or it is a zombie nobody reaped yet. */
  static boolean gone(long pid) {
    try {
      String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
      int close = s.lastIndexOf(')');
      char state = s.charAt(close + 2);
      return state == 'Z' || state == 'X';
    } catch (IOException e) {
      return true;
    }
  }

  /** Every {@code pid=N} found in the texts. */
  static List<Long> pids(List<String> texts) {
    Pattern p = Pattern.compile("pid=(\\d+)");
    List<Long> out = new ArrayList<>();
    for (String t : texts) {
      Matcher m = p.matcher(t);
      while (m.find()) {
        out.add(Long.parseLong(m.group(1)));
      }
    }
    return out;
  }

  /** A worker of pool {@code pool} reached through a listening agent. */
  static Worker listeningWorker(String id, String pool, String address, String thumbprint) {
    return Worker.builder(id)
        .pool(pool)
        .endpoint(
            Endpoint.of(TentacleTransport.LISTENING, address, Map.of("thumbprint", thumbprint)))
        .build();
  }

  /** Deletes a directory tree, best effort. */
  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort
    }
  }

  /** A raw mutual-TLS client to a listening agent, after the handshake and the preamble. */
  static final class RawClient implements AutoCloseable {
    final SSLSocket socket;
    final InputStream in;
    final OutputStream out;

    RawClient(InetSocketAddress agent, String agentThumbprint) throws IOException {
      this(agent, agentThumbprint, HOST);
    }

    RawClient(InetSocketAddress agent, String agentThumbprint, TentacleCertificate own)
        throws IOException {
      socket =
          (SSLSocket)
              AgentWire.pinnedContext(own, () -> Set.of(agentThumbprint))
                  .getSocketFactory()
                  .createSocket(agent.getAddress(), agent.getPort());
      socket.setSoTimeout(15_000);
      in = new BufferedInputStream(socket.getInputStream());
      out = socket.getOutputStream();
      AgentWire.writeLine(out, AgentWire.PROTOCOL + " CLIENT");
      String ok = AgentWire.readLine(in);
      if (!ok.startsWith("OK")) {
        throw new IOException("the agent refused the preamble: " + ok);
      }
    }

    /** Sends raw bytes, no framing. */
    void raw(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }

    /** Sends one frame and reads one reply frame as text (null if the agent closed). */
    String call(byte[] payload) throws IOException {
      AgentWire.writeFrame(out, payload);
      return read();
    }

    String call(String json) throws IOException {
      return call(json.getBytes(StandardCharsets.UTF_8));
    }

    String read() throws IOException {
      byte[] r = AgentWire.readFrame(in, AgentWire.MAX_FRAME_BYTES);
      return r == null ? null : new String(r, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** A ping over a fresh connection: true if the agent answered it without error. */
  static boolean pings(InetSocketAddress agent, String thumbprint) {
    try (RawClient c = new RawClient(agent, thumbprint)) {
      String r = c.call("{\"type\":\"ping\",\"body\":{}}");
      return r != null && r.contains("\"error\":null");
    } catch (IOException e) {
      return false;
    }
  }
}
