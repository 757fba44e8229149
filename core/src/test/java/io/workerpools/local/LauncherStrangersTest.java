package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.local.LocalProcessTransport.StartMode;
import io.workerpools.local.internal.Launcher;
import io.workerpools.model.Worker;
import io.workerpools.testing.Await;
import io.workerpools.testing.CollectingSink;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Strangers on the launcher's loopback port (any local user can connect to it): real sockets that
 * never present a step's token are closed at a deadline, and only so many are kept open at once,
 * while scripts keep running.
 */
class LauncherStrangersTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @TempDir Path base;

  private static LocalProcessTransport launcher(Path base, Launcher.Limits limits) {
    return LocalProcessTransport.builder()
        .baseDirectory(base)
        .startMode(StartMode.PERSISTENT_LAUNCHER)
        .launcherLimits(limits)
        .build();
  }

  private static void runs(LocalProcessTransport t, String word) {
    CollectingSink sink = new CollectingSink();
    ScriptResult r =
        t.start(Worker.BUILT_IN, ScriptRequest.bash("echo " + word), sink)
            .result()
            .toCompletableFuture()
            .orTimeout(PATIENCE.toSeconds(), TimeUnit.SECONDS)
            .join();
    assertThat(r.exitCode()).as(r.message()).hasValue(0);
    assertThat(sink.stdout()).containsExactly(word);
    assertThat(t.launcherActive()).isTrue();
  }

  /** Whether the far end closed {@code s} (a read sees the end), checked without blocking long. */
  private static boolean closedByPeer(Socket s) {
    try {
      s.setSoTimeout(20);
      InputStream in = s.getInputStream();
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  private static List<Socket> connect(int port, int n, String say) throws IOException {
    List<Socket> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
      if (!say.isEmpty()) {
        OutputStream out = s.getOutputStream();
        out.write(say.getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      all.add(s);
    }
    return all;
  }

  @Test
  void aConnectionThatNeverPresentsAStepTokenIsClosedAtItsDeadline() throws IOException {
    try (LocalProcessTransport t =
        launcher(base, new Launcher.Limits(Duration.ofMillis(500), 1000))) {
      runs(t, "before");
      int port = t.launcherPort();
      assertThat(port).isPositive();
      // Silent ones, and one that starts a token line and never ends it.
      List<Socket> strangers = connect(port, 5, "");
      strangers.addAll(connect(port, 1, "0123456789abcdef"));
      try {
        Set<Socket> closed = new HashSet<>();
        Await.until(
            "the launcher to close every connection that presented no token",
            PATIENCE,
            () -> {
              strangers.stream().filter(LauncherStrangersTest::closedByPeer).forEach(closed::add);
              return closed.size() == strangers.size();
            });
        runs(t, "after");
      } finally {
        for (Socket s : strangers) {
          s.close();
        }
      }
    }
  }

  @Test
  void onlySoManySilentConnectionsAreKeptOpenAndScriptsStillRun() throws IOException {
    int spare = 4;
    try (LocalProcessTransport t =
        launcher(base, new Launcher.Limits(Duration.ofHours(1), spare))) {
      runs(t, "before");
      List<Socket> strangers = connect(t.launcherPort(), 40, "");
      try {
        Set<Socket> closed = new HashSet<>();
        Await.until(
            "the launcher to keep at most " + spare + " silent connections open",
            PATIENCE,
            () -> {
              strangers.stream().filter(LauncherStrangersTest::closedByPeer).forEach(closed::add);
              return closed.size() >= strangers.size() - spare;
            });
        assertThat(closed).as("the oldest are closed first").contains(strangers.get(0));
        runs(t, "after");
      } finally {
        for (Socket s : strangers) {
          s.close();
        }
      }
    }
  }
}
