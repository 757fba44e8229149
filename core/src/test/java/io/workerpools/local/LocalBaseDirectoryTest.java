package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.local.internal.WorkingDirectories;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.testing.Await;
import io.workerpools.testing.CollectingSink;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in worker's base directory on a host shared with another, hostile, local user (a real
 * second OS user): a base that user made, could write to, or planted as a link is refused with an
 * error naming it; a base the library makes is 0700; nothing is ever written where that user could
 * swap it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalBaseDirectoryTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private OtherUser hostile;
  @TempDir Path root;

  /** Like {@code /tmp}: everyone may create entries, nobody may move another's (sticky). */
  private Path shared;

  @BeforeAll
  void makeUser() {
    hostile = OtherUser.create();
  }

  @AfterAll
  void removeUser() {
    hostile.close();
  }

  @BeforeEach
  void makeShared() throws IOException {
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
    shared = Files.createDirectory(root.resolve("shared"));
    Files.setAttribute(shared, "unix:mode", 01777);
  }

  private static ScriptResult run(LocalProcessTransport t, ScriptRequest r, CollectingSink sink) {
    return t.start(Worker.BUILT_IN, r, sink)
        .result()
        .toCompletableFuture()
        .orTimeout(PATIENCE.toSeconds(), TimeUnit.SECONDS)
        .join();
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  @Test
  void aBaseAnotherUserMadeFirstIsRefusedNamingItAndHowToFixIt() {
    Path base = shared.resolve("workerpools-steps");
    hostile.bash("mkdir -m 777 \"$1\"", base.toString());
    assertThatThrownBy(() -> LocalProcessTransport.builder().baseDirectory(base).build())
        .isInstanceOf(UnsafeDirectoryException.class)
        .hasMessageContaining(base.toString())
        .hasMessageContaining("another user")
        .hasMessageContaining("rm -rf " + base)
        .satisfies(e -> assertThat(((UnsafeDirectoryException) e).path()).isEqualTo(base));
  }

  @Test
  void aLinkPlantedWhereTheBaseWouldBeIsRefusedAndItsTargetReceivesNothing() throws IOException {
    Path trap = shared.resolve("trap");
    Path base = shared.resolve("workerpools-steps");
    hostile.bash("mkdir -m 777 \"$1\" && ln -s \"$1\" \"$2\"", trap.toString(), base.toString());
    assertThatThrownBy(() -> LocalProcessTransport.builder().baseDirectory(base).build())
        .isInstanceOf(UnsafeDirectoryException.class)
        .hasMessageContaining(base.toString())
        .hasMessageContaining("symbolic link");
    assertThat(list(trap)).isEmpty();
  }

  @Test
  void aHostileUserRacingToSwapStepDirectoriesInABaseItMadeNeverGetsAScriptRun()
      throws IOException {
    // The audit's attack: the base appears (made by the other user) after the transport was
    // built; that user then swaps each step directory for one holding its own script, in a loop.
    Path base = shared.resolve("workerpools-steps");
    Path marker = root.resolve("ran");
    try (LocalProcessTransport t = LocalProcessTransport.builder().baseDirectory(base).build()) {
      hostile.bash("mkdir -m 777 \"$1\"", base.toString());
      Path rounds = shared.resolve("rounds");
      Process attacker =
          hostile.start(
              "cd \"$1\" || exit 1; while :; do for d in step-*; do [ -d \"$d\" ] || continue;"
                  + " mv \"$d\" \"x$d\" 2>/dev/null && mkdir \"$d\" &&"
                  + " printf 'id -u > %s/pwned-$$\\n' \"$2\" > \"$d/script.sh\"; done;"
                  + " echo >> \"$3\"; done",
              base.toString(), shared.toString(), rounds.toString());
      Await.until("the attacker to loop", PATIENCE, () -> Files.exists(rounds));
      for (int i = 0; i < 20; i++) {
        CollectingSink sink = new CollectingSink();
        ScriptResult r =
            run(
                t,
                ScriptRequest.builder(ScriptSyntax.BASH, "echo ran > \"$1\"")
                    .argument(marker.toString())
                    .build(),
                sink);
        assertThat(r.outcome())
            .as("step %d: %s", i, r.message())
            .isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
        assertThat(r.message()).contains(base.toString()).contains("another user");
      }
      assertThat(attacker.isAlive()).as("the attacker kept trying").isTrue();
    } finally {
      hostile.stopAll(); // before the temporary directory it writes into is deleted
    }
    assertThat(marker).doesNotExist();
    try (Stream<Path> s = Files.list(shared)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("pwned"));
    }
    assertThat(list(base)).as("nothing written into the other user's directory").isEmpty();
  }

  @Test
  void aBaseUnderADirectoryAnotherUserOwnsIsRefused() {
    Path theirs = shared.resolve("theirs");
    hostile.bash("mkdir -m 755 \"$1\"", theirs.toString());
    Path base = theirs.resolve("steps");
    try (LocalProcessTransport t = LocalProcessTransport.builder().baseDirectory(base).build()) {
      ScriptResult r = run(t, ScriptRequest.bash("echo never"), new CollectingSink());
      assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
      assertThat(r.message()).contains(base.toString()).contains(theirs.toString());
    }
    assertThat(base).doesNotExist();
  }

  @Test
  void aBaseOthersCanWriteIsRefusedUntilItsModeIsFixed() throws IOException {
    Path base = Files.createDirectory(shared.resolve("mine"));
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertThatThrownBy(() -> LocalProcessTransport.builder().baseDirectory(base).build())
        .isInstanceOf(UnsafeDirectoryException.class)
        .hasMessageContaining(base.toString())
        .hasMessageContaining("chmod 700 " + base);
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx------"));
    try (LocalProcessTransport t = LocalProcessTransport.builder().baseDirectory(base).build()) {
      CollectingSink sink = new CollectingSink();
      assertThat(run(t, ScriptRequest.bash("echo ok"), sink).exitCode()).hasValue(0);
      assertThat(sink.stdout()).containsExactly("ok");
    }
  }

  @Test
  void aMissingBaseIsCreatedByTheLibraryForItsUserOnly() throws IOException {
    Path base = shared.resolve("workerpools-steps");
    try (LocalProcessTransport t = LocalProcessTransport.builder().baseDirectory(base).build()) {
      CollectingSink sink = new CollectingSink();
      ScriptResult r =
          run(t, ScriptRequest.bash("stat -c '%a %U' \"$PWD\" script.sh; echo ok"), sink);
      assertThat(r.exitCode()).as("%s", sink.lines()).hasValue(0);
      assertThat(sink.stdout()).containsExactly("700 root", "600 root", "ok");
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(base)))
        .isEqualTo("rwx------");
    assertThat(Files.getOwner(base, LinkOption.NOFOLLOW_LINKS).getName()).isEqualTo("root");
  }

  @Test
  void handingAStepDirectoryToAnotherUserNeverChangesTheOwnerOfWhatALinkPointsTo()
      throws IOException {
    Path victim = Files.writeString(root.resolve("victim"), "root's");
    Path dir = Files.createDirectory(root.resolve("step"));
    Files.writeString(dir.resolve("script.sh"), "true");
    Files.createSymbolicLink(dir.resolve("link"), victim);
    UserPrincipal them =
        root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(hostile.name);
    WorkingDirectories.chownTree(dir, them);
    assertThat(Files.getOwner(victim).getName()).isEqualTo("root");
    assertThat(Files.getOwner(dir.resolve("script.sh")).getName()).isEqualTo(hostile.name);
    assertThat(Files.getOwner(dir.resolve("link"), LinkOption.NOFOLLOW_LINKS).getName())
        .isEqualTo(hostile.name);
  }

  @Test
  void removingAStepDirectoryAnotherUserFilledWithLinksRemovesOnlyTheLinks() throws IOException {
    Path victims = Files.createDirectory(root.resolve("victims"));
    Files.writeString(victims.resolve("keep"), "keep");
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
    Path base = Files.createDirectory(shared.resolve("base"));
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
    try (LocalProcessTransport t = LocalProcessTransport.builder().baseDirectory(base).build()) {
      CollectingSink sink = new CollectingSink();
      ScriptResult r =
          run(
              t,
              ScriptRequest.builder(
                      ScriptSyntax.BASH,
                      "mkdir -p sub/deeper && ln -s \"$1\" sub/deeper/dir && ln -s \"$1/keep\" file"
                          + " && echo made")
                  .argument(victims.toString())
                  .runAsUser(hostile.name)
                  .build(),
              sink);
      assertThat(r.exitCode()).as("%s %s", r.message(), sink.lines()).hasValue(0);
      assertThat(sink.stdout()).containsExactly("made");
    }
    assertThat(list(base)).isEmpty();
    assertThat(victims.resolve("keep")).hasContent("keep");
  }
}
