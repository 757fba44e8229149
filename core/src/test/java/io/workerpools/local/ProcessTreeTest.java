package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.local.internal.Executables;
import io.workerpools.local.internal.ProcessTree;
import io.workerpools.testing.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Killing a process group, through the helper and through a spawned {@code kill}. */
class ProcessTreeTest {
  private final Executables exe = Executables.fromEnvironment();

  private static boolean gone(long pid) {
    try {
      String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
      char state = s.charAt(s.lastIndexOf(')') + 2);
      return state == 'Z' || state == 'X';
    } catch (IOException e) {
      return true;
    }
  }

  /** Starts a group leader whose orphaned child keeps running after the leader exits. */
  private static long[] leaderAndOrphan() throws IOException {
    Process p =
        new ProcessBuilder("setsid", "bash", "-c", "( sleep 300 & echo $! ) ; sleep 300")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
    long orphan = Long.parseLong(r.readLine().trim());
    return new long[] {p.pid(), orphan};
  }

  @Test
  void theHelperKillsAWholeGroupIncludingOrphans() throws IOException {
    assertThat(exe.find("bash")).as("bash must be installed").isPresent();
    try (ProcessTree tree = new ProcessTree(Optional.empty(), exe.find("bash"))) {
      for (int i = 0; i < 3; i++) { // the helper serves several requests
        long[] ids = leaderAndOrphan();
        assertThat(gone(ids[1])).isFalse();
        tree.killGroup(ids[0]);
        Await.until(
            "group " + ids[0] + " gone",
            Duration.ofSeconds(10),
            () -> gone(ids[0]) && gone(ids[1]));
      }
    }
  }

  @Test
  void withoutTheHelperASpawnedKillDoesIt() throws IOException {
    assertThat(exe.find("kill")).as("kill must be installed: apt-get install procps").isPresent();
    try (ProcessTree tree = new ProcessTree(exe.find("kill"), Optional.empty())) {
      long[] ids = leaderAndOrphan();
      tree.killGroup(ids[0]);
      Await.until(
          "group " + ids[0] + " gone", Duration.ofSeconds(10), () -> gone(ids[0]) && gone(ids[1]));
    }
  }
}
