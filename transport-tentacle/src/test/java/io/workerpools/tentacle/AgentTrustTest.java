package io.workerpools.tentacle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stored trust file: owner-only, atomic, no symbolic links followed, validated on read. */
class AgentTrustTest {
  @TempDir Path dir;

  static String thumb(int i) {
    return String.format("%064X", i + 1);
  }

  @Test
  void addWritesAnOwnerOnlyFileInAnOwnerOnlyHomeAndRemoveTakesItOut() throws Exception {
    Path home = dir.resolve("home");
    AgentTrust t = AgentTrust.of(home);
    assertThat(t.thumbprints()).isEmpty();
    assertThat(t.add(thumb(1).toLowerCase())).isTrue();
    assertThat(t.add(thumb(1))).as("already there").isFalse();
    assertThat(t.add(thumb(2))).isTrue();
    assertThat(t.thumbprints()).containsExactlyInAnyOrder(thumb(1), thumb(2));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home)))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(t.file())))
        .isEqualTo("rw-------");
    assertThat(t.remove(thumb(1))).isTrue();
    assertThat(t.remove(thumb(1))).isFalse();
    assertThat(t.thumbprints()).containsExactly(thumb(2));
    try (var files = Files.list(home)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("no temporary file left behind")
          .containsExactlyInAnyOrder(AgentTrust.FILE_NAME, AgentTrust.FILE_NAME + ".lock");
    }
  }

  @Test
  void aSymbolicLinkInTheFilesPlaceIsNeverFollowed() throws Exception {
    Path home = Files.createDirectory(dir.resolve("home"));
    Path elsewhere = dir.resolve("elsewhere");
    Files.writeString(elsewhere, thumb(7) + "\n");
    AgentTrust t = AgentTrust.of(home);
    Files.createSymbolicLink(t.file(), elsewhere);
    assertThatThrownBy(t::thumbprints)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining(t.file().toString())
        .hasMessageContaining("symbolic link");
    assertThatThrownBy(() -> t.add(thumb(1))).hasMessageContaining("symbolic link");
    assertThat(Files.readString(elsewhere))
        .as("the link's target untouched")
        .isEqualTo(thumb(7) + "\n");
  }

  @Test
  void aFileOthersMayWriteIsRefused() throws Exception {
    AgentTrust t = AgentTrust.of(dir);
    t.add(thumb(1));
    Files.setPosixFilePermissions(t.file(), PosixFilePermissions.fromString("rw-rw-rw-"));
    assertThatThrownBy(t::thumbprints)
        .hasMessageContaining("may be written by group or others: run chmod 600 " + t.file());
  }

  @Test
  void aBadLineIsNamedWithTheFileAndItsNumber() throws Exception {
    AgentTrust t = AgentTrust.of(dir);
    t.add(thumb(1));
    Files.writeString(t.file(), "# comment\n\n" + thumb(1) + "\n  " + thumb(2) + "  \nabc\n");
    assertThatThrownBy(t::thumbprints)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining(t.file() + " line 5: 'abc' is not a thumbprint (64 hex digits)");
    Files.write(t.file(), new byte[] {(byte) 0xff, '\n'});
    assertThatThrownBy(t::thumbprints).hasMessageContaining("is not ASCII text");
    assertThatThrownBy(() -> t.add("xyz")).hasMessageContaining("xyz");
  }

  @Test
  void concurrentWritersLoseNoThumbprint() throws Exception {
    AgentTrust t = AgentTrust.of(dir);
    int writers = 8;
    CyclicBarrier barrier = new CyclicBarrier(writers);
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int id = w;
        done.add(
            pool.submit(
                () -> {
                  barrier.await(10, TimeUnit.SECONDS);
                  for (int i = 0; i < 10; i++) {
                    AgentTrust.of(dir).add(thumb(id * 100 + i));
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    Set<String> expected = new HashSet<>();
    for (int w = 0; w < writers; w++) {
      for (int i = 0; i < 10; i++) {
        expected.add(thumb(w * 100 + i));
      }
    }
    assertThat(t.thumbprints()).isEqualTo(expected);
  }
}
