package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.local.LocalProcessTransport.StartMode;
import io.workerpools.local.internal.Executables;
import io.workerpools.model.Worker;
import io.workerpools.testing.Await;
import io.workerpools.testing.CollectingSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The persistent launcher: that scripts go through it, what it hides, and how it fails. */
class LocalLauncherTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @TempDir Path base;
  @TempDir Path scratch;
  private LocalProcessTransport transport;

  @BeforeEach
  void start() {
    transport =
        LocalProcessTransport.builder()
            .baseDirectory(base)
            .startMode(StartMode.PERSISTENT_LAUNCHER)
            .build();
  }

  @AfterEach
  void stop() {
    transport.close();
  }

  private static ScriptResult await(ScriptExecution e) {
    return e.result()
        .toCompletableFuture()
        .orTimeout(PATIENCE.toSeconds(), TimeUnit.SECONDS)
        .join();
  }

  private static CollectingSink run(LocalProcessTransport t, ScriptRequest request) {
    CollectingSink sink = new CollectingSink();
    ScriptResult r = await(t.start(Worker.BUILT_IN, request, sink));
    assertThat(r.exitCode()).as("%s: %s", r.outcome(), r.message()).hasValue(0);
    return sink;
  }

  @Test
  void scriptsRunThroughThePersistentLauncherEachLeadingItsOwnProcessGroup() {
    String jvm = Long.toString(ProcessHandle.current().pid());
    CollectingSink first =
        run(transport, ScriptRequest.bash("read -r -a st < /proc/$$/stat; echo $$ ${st[4]} $PPID"));
    List<Long> launchers = transport.launcherPids();
    CollectingSink second =
        run(transport, ScriptRequest.bash("read -r -a st < /proc/$$/stat; echo $$ ${st[4]} $PPID"));

    assertThat(LocalProcessTransport.create().startMode())
        .as("the default")
        .isEqualTo(StartMode.PERSISTENT_LAUNCHER);
    assertThat(transport.launcherActive()).isTrue();
    assertThat(launchers).isNotEmpty();
    assertThat(transport.launcherPids()).as("launchers are reused").containsAll(launchers);
    for (CollectingSink s : List.of(first, second)) {
      String[] f = s.stdout().get(0).split(" ");
      assertThat(f[1]).as("process group = own pid").isEqualTo(f[0]);
      assertThat(f[2]).as("parent is not the JVM").isNotEqualTo(jvm);
    }
  }

  @Test
  void aScriptHoldsNoDescriptorsBeyondItsThreeStreams() {
    // The launcher's pipes and the other scripts' sockets must not leak into a script. Besides
    // 0-2, bash holds its script open (fd 255); the directory handle of the listing itself is
    // closed by the time readlink looks at it.
    CollectingSink s =
        run(
            transport,
            ScriptRequest.bash(
                "cd /proc/$$/fd && for f in *; do printf '%s ' \"$f\"; readlink \"$f\" ||"
                    + " echo gone; done"));
    List<String> open =
        s.stdout().stream()
            .filter(l -> !l.endsWith(" gone") && !l.startsWith("255 "))
            .sorted()
            .toList();
    assertThat(open).hasSize(3);
    assertThat(open.get(0)).isEqualTo("0 /dev/null");
    assertThat(open.get(1)).startsWith("1 socket:");
    assertThat(open.get(2)).startsWith("2 socket:");
    assertThat(s.stdout()).anySatisfy(l -> assertThat(l).startsWith("255 ").endsWith("script.sh"));
    assertThat(transport.launcherActive()).isTrue();
  }

  @Test
  void aScriptSeesTheSameEnvironmentThroughTheLauncherAsWhenSpawned() {
    ScriptRequest env =
        ScriptRequest.builder(io.workerpools.model.ScriptSyntax.BASH, "env -0")
            .env("STEP_VAR", "a b\n'c' $(x)")
            .env("PATH", System.getenv("PATH"))
            .build();
    for (boolean inherit : new boolean[] {true, false}) {
      try (LocalProcessTransport launcher =
              LocalProcessTransport.builder()
                  .baseDirectory(base)
                  .inheritEnvironment(inherit)
                  .startMode(StartMode.PERSISTENT_LAUNCHER)
                  .build();
          LocalProcessTransport spawn =
              LocalProcessTransport.builder()
                  .baseDirectory(base)
                  .inheritEnvironment(inherit)
                  .startMode(StartMode.SPAWN_PER_SCRIPT)
                  .build()) {
        Map<String, String> viaLauncher = parseEnv(run(launcher, env));
        Map<String, String> spawned = parseEnv(run(spawn, env));
        assertThat(launcher.launcherActive()).isTrue();
        assertThat(viaLauncher.get("STEP_VAR")).isEqualTo("a b\n'c' $(x)");
        // The working directory differs per script, and '_' names the last command.
        for (Map<String, String> m : List.of(viaLauncher, spawned)) {
          m.remove("PWD");
          m.remove("_");
        }
        assertThat(viaLauncher).as("inheritEnvironment(%s)", inherit).isEqualTo(spawned);
      }
    }
  }

  private static Map<String, String> parseEnv(CollectingSink sink) {
    String all = String.join("\n", sink.stdout());
    Map<String, String> m = new TreeMap<>();
    for (String entry : all.split("\0")) {
      int eq = entry.indexOf('=');
      if (eq > 0) {
        m.put(entry.substring(0, eq), entry.substring(eq + 1));
      }
    }
    return m;
  }

  @Test
  void variablesTheShellTreatsSpeciallyStillArriveTheScriptIsSpawnedInstead() {
    CollectingSink s =
        run(
            transport,
            ScriptRequest.builder(
                    io.workerpools.model.ScriptSyntax.BASH,
                    "tr '\\0' '\\n' < /proc/$$/environ | grep -E '^(BASH_EXTRA|RANDOM)=' | sort")
                .env("BASH_EXTRA", "x")
                .env("RANDOM", "42")
                .build());
    assertThat(s.stdout()).containsExactly("BASH_EXTRA=x", "RANDOM=42");
  }

  @Test
  void aKilledLauncherIsReplacedAndTheScriptItWasRunningStillReportsItsExit() throws IOException {
    Path go = scratch.resolve("go");
    CollectingSink sink = new CollectingSink();
    ScriptExecution running =
        transport.start(
            Worker.BUILT_IN,
            ScriptRequest.builder(
                    io.workerpools.model.ScriptSyntax.BASH,
                    "echo up; for i in $(seq 600); do [ -e \"$1\" ] && exit 7; sleep 0.05; done")
                .argument(go.toString())
                .build(),
            sink);
    Await.until("the script to start", PATIENCE, () -> sink.stdout().contains("up"));
    List<Long> killed = transport.launcherPids();
    assertThat(killed).isNotEmpty();
    for (long pid : killed) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    Await.until(
        "the launchers to die",
        PATIENCE,
        () -> killed.stream().allMatch(pid -> ProcessHandle.of(pid).isEmpty()));
    Files.writeString(go, "");

    ScriptResult r = await(running);
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
    assertThat(r.exitCode()).hasValue(7);

    CollectingSink next = run(transport, ScriptRequest.bash("echo again"));
    assertThat(next.stdout()).containsExactly("again");
    assertThat(transport.launcherPids())
        .as("a new launcher")
        .isNotEmpty()
        .doesNotContainAnyElementsOf(killed);
    assertThat(transport.launcherActive()).isTrue();
  }

  @Test
  void aScriptWhoseWaiterDiesEndsAsWorkerLostIsKilledAndIsNotRunAgain() throws IOException {
    Path ran = scratch.resolve("ran");
    CollectingSink sink = new CollectingSink();
    ScriptResult r =
        await(
            transport.start(
                Worker.BUILT_IN,
                ScriptRequest.builder(
                        io.workerpools.model.ScriptSyntax.BASH,
                        "echo $$ >> \"$1\"; kill -KILL $PPID; exec sleep 60")
                    .argument(ran.toString())
                    .build(),
                sink));
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.WORKER_LOST);
    assertThat(r.message()).contains("ended without reporting its exit");
    List<String> lines = Files.readAllLines(ran);
    assertThat(lines).as("ran exactly once").hasSize(1);
    long pid = Long.parseLong(lines.get(0));
    Await.until(
        "the orphaned script (pid " + pid + ") to be killed",
        PATIENCE,
        () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
  }

  @Test
  void whenTheLauncherCannotStartScriptsAreSpawnedOneProcessEach() throws IOException {
    // A PATH whose 'bash' exits at once: the launcher cannot start; kill and setsid are real.
    Path bin = Files.createDirectory(scratch.resolve("bin"));
    Path fake = bin.resolve("bash");
    Files.writeString(fake, "#!/bin/sh\nexit 3\n");
    fake.toFile().setExecutable(true);
    Executables real = Executables.fromEnvironment();
    for (String tool : List.of("setsid", "kill")) {
      real.find(tool).ifPresent(p -> link(bin.resolve(tool), p));
    }
    String realBash = real.find("bash").orElseThrow().toString();
    try (LocalProcessTransport t =
        LocalProcessTransport.builder()
            .baseDirectory(base)
            .executables(new Executables(bin.toString()))
            .startMode(StartMode.PERSISTENT_LAUNCHER)
            .interpreter(io.workerpools.model.ScriptSyntax.BASH, realBash)
            .build()) {
      CollectingSink s = run(t, ScriptRequest.bash("echo spawned"));
      assertThat(s.stdout()).containsExactly("spawned");
      assertThat(t.launcherActive()).isFalse();
      assertThat(run(t, ScriptRequest.bash("echo again")).stdout()).containsExactly("again");
    }
  }

  private static void link(Path link, Path target) {
    try {
      Files.createSymbolicLink(link, target);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void manyScriptsAtOnceThroughTheLauncherEachGetTheirOwnOutputAndExitCode() {
    int n = 100;
    ScriptExecution[] e = new ScriptExecution[n];
    CollectingSink[] sinks = new CollectingSink[n];
    for (int i = 0; i < n; i++) {
      sinks[i] = new CollectingSink();
      e[i] =
          transport.start(
              Worker.BUILT_IN,
              ScriptRequest.builder(
                      io.workerpools.model.ScriptSyntax.BASH,
                      "echo out-$1; echo err-$1 >&2; exit $(( $1 % 7 ))")
                  .argument(Integer.toString(i))
                  .build(),
              sinks[i]);
    }
    for (int i = 0; i < n; i++) {
      ScriptResult r = await(e[i]);
      assertThat(r.exitCode()).hasValue(i % 7);
      assertThat(sinks[i].stdout()).containsExactly("out-" + i);
      assertThat(sinks[i].stderr()).containsExactly("err-" + i);
    }
    assertThat(transport.runningCount()).isZero();
  }
}
