package io.workerpools.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The fault proxy itself, over real loopback sockets: it passes, stalls, cuts and corrupts. */
class FaultProxyTest {

  /** An echo server that prefixes each chunk with a tag, so tests can tell two targets apart. */
  static final class EchoServer implements AutoCloseable {
    final ServerSocket server;
    final Set<Socket> open = ConcurrentHashMap.newKeySet();

    EchoServer(String tag) throws IOException {
      server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
      Thread t =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket s = server.accept();
                    open.add(s);
                    Thread echo =
                        new Thread(
                            () -> {
                              byte[] buf = new byte[4096];
                              try (s) {
                                InputStream in = s.getInputStream();
                                OutputStream out = s.getOutputStream();
                                int n;
                                while ((n = in.read(buf)) >= 0) {
                                  out.write(tag.getBytes(StandardCharsets.US_ASCII));
                                  out.write(buf, 0, n);
                                  out.flush();
                                }
                              } catch (IOException e) {
                                // peer gone
                              } finally {
                                open.remove(s);
                              }
                            },
                            "echo");
                    echo.setDaemon(true);
                    echo.start();
                  } catch (IOException e) {
                    return;
                  }
                }
              },
              "echo-accept");
      t.setDaemon(true);
      t.start();
    }

    InetSocketAddress address() {
      return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : open) {
        s.close();
      }
    }
  }

  private static Socket connect(FaultProxy proxy) throws IOException {
    Socket s = new Socket();
    s.connect(proxy.address(), 2000);
    s.setSoTimeout(5000);
    return s;
  }

  private static String exchange(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return readExactly(s, text.length() + 2);
  }

  private static String readExactly(Socket s, int n) throws IOException {
    byte[] buf = s.getInputStream().readNBytes(n);
    return new String(buf, StandardCharsets.US_ASCII);
  }

  @Test
  void passesBytesBothWaysUnchanged() throws Exception {
    try (EchoServer echo = new EchoServer("A:");
        FaultProxy proxy = new FaultProxy("t", echo.address());
        Socket s = connect(proxy)) {
      assertThat(exchange(s, "hello")).isEqualTo("A:hello");
      assertThat(exchange(s, "again")).isEqualTo("A:again");
      assertThat(proxy.accepted()).isEqualTo(1);
    }
  }

  @Test
  void aStallHoldsEveryByteUntilResumedThenDeliversThemInOrder() throws Exception {
    try (EchoServer echo = new EchoServer("A:");
        FaultProxy proxy = new FaultProxy("t", echo.address());
        Socket s = connect(proxy)) {
      assertThat(exchange(s, "warm")).isEqualTo("A:warm");
      proxy.stall();
      s.getOutputStream().write("held".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      s.setSoTimeout(400);
      assertThatThrownBy(() -> s.getInputStream().read())
          .as("nothing passes while stalled")
          .isInstanceOf(SocketTimeoutException.class);
      proxy.resume();
      s.setSoTimeout(5000);
      assertThat(readExactly(s, 6)).isEqualTo("A:held");
    }
  }

  @Test
  void aCutClosesEveryOpenConnectionAndNewOnesStillWork() throws Exception {
    try (EchoServer echo = new EchoServer("A:");
        FaultProxy proxy = new FaultProxy("t", echo.address())) {
      Socket a = connect(proxy);
      Socket b = connect(proxy);
      assertThat(exchange(a, "x")).isEqualTo("A:x");
      assertThat(exchange(b, "y")).isEqualTo("A:y");
      assertThat(proxy.cutAll()).isEqualTo(4);
      assertThat(a.getInputStream().read()).as("end of stream after a cut").isEqualTo(-1);
      assertThat(b.getInputStream().read()).isEqualTo(-1);
      a.close();
      b.close();
      try (Socket c = connect(proxy)) {
        assertThat(exchange(c, "z")).isEqualTo("A:z");
      }
    }
  }

  @Test
  void corruptionChangesExactlyOneChunkAndOnlyOnce() throws Exception {
    try (EchoServer echo = new EchoServer("A:");
        FaultProxy proxy = new FaultProxy("t", echo.address());
        Socket s = connect(proxy)) {
      assertThat(exchange(s, "abcdef")).isEqualTo("A:abcdef");
      proxy.corruptNextChunk();
      assertThat(exchange(s, "abcdef")).isNotEqualTo("A:abcdef").hasSize(8);
      assertThat(exchange(s, "abcdef")).isEqualTo("A:abcdef");
      assertThat(proxy.corrupted()).isEqualTo(1);
    }
  }

  @Test
  void retargetSendsNewConnectionsToTheNewTarget() throws Exception {
    try (EchoServer first = new EchoServer("A:");
        EchoServer second = new EchoServer("B:");
        FaultProxy proxy = new FaultProxy("t", first.address())) {
      Socket old = connect(proxy);
      assertThat(exchange(old, "1")).isEqualTo("A:1");
      proxy.retarget(second.address());
      try (Socket fresh = connect(proxy)) {
        assertThat(exchange(fresh, "2")).isEqualTo("B:2");
      }
      assertThat(exchange(old, "3")).as("open connections keep their target").isEqualTo("A:3");
      old.close();
    }
  }

  @Test
  void closeEndsEveryConnectionAndThread() throws Exception {
    try (EchoServer echo = new EchoServer("A:")) {
      FaultProxy proxy = new FaultProxy("closing", echo.address());
      Socket s = connect(proxy);
      assertThat(exchange(s, "q")).isEqualTo("A:q");
      proxy.stall();
      proxy.close();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
      s.close();
      assertThat(proxy.openSockets()).isZero();
      Awaiting.until(
          () ->
              Thread.getAllStackTraces().keySet().stream()
                  .noneMatch(t -> t.getName().endsWith(proxyName(proxy)) && t.isAlive()),
          Duration.ofSeconds(5),
          "the proxy's threads to end");
    }
  }

  private static String proxyName(FaultProxy p) {
    String s = p.toString();
    return s.substring("FaultProxy[".length(), s.indexOf(' '));
  }
}
