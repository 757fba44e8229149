package io.workerpools.ssh;

import static io.workerpools.ssh.SshTestSupport.await;
import static io.workerpools.ssh.SshTestSupport.endpoint;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Worker;
import io.workerpools.ssh.SshTestSupport.Credentials;
import io.workerpools.ssh.SshTestSupport.Lines;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What any user of a worker sees with {@code ps}: the command line of every process on the worker
 * (all of {@code /proc/<pid>/cmdline}), read while a step runs, holds no part of the step's script,
 * arguments or environment values, on the lean path and on the directory path.
 */
class SshProcessListTest {
  @RegisterExtension static final OpenSshServerExtension SSHD = new OpenSshServerExtension();

  private static final Credentials CREDENTIALS = new Credentials();
  private static SshTransport transport;
  private static Worker worker;

  /** Prints {@code <pid> <cmdline with NULs as spaces>} for every process. */
  private static final String LIST_COMMAND_LINES =
      "for f in /proc/[0-9]*/cmdline; do p=${f#/proc/}; p=${p%/cmdline};"
          + " c=$(tr '\\0' ' ' < \"$f\" 2>/dev/null) && printf '%s %s\\n' \"$p\" \"$c\"; done";

  @BeforeAll
  static void setUp() {
    OpenSshServer s = SSHD.server();
    CREDENTIALS.byId.put("key", SshCredentials.privateKeyFile(s.clientKey("ed25519", "", true)));
    transport = SshTransport.builder(CREDENTIALS).build();
    worker =
        SshTestSupport.worker(
            "ps",
            endpoint(
                s.address(),
                "root",
                Map.of(
                    SshEndpoint.CREDENTIALS,
                    "key",
                    SshEndpoint.KNOWN_HOSTS,
                    s.knownHosts().toString())));
  }

  @AfterAll
  static void tearDown() {
    if (transport != null) {
      transport.close();
    }
  }

  @ParameterizedTest(name = "{0} path")
  @ValueSource(strings = {"lean", "directory"})
  void noCommandLineOnTheWorkerHoldsTheScriptItsArgumentsOrItsEnvironment(String path)
      throws Exception {
    String id = UUID.randomUUID().toString().replace("-", "");
    String inBody = "BODY" + id;
    String inArg = "ARG" + id;
    String inEnv = "ENV" + id;
    String fifo = SSHD.server().remoteTmp() + "/ps-" + id;
    // The step names itself, then blocks until the test has read every command line: no sleep.
    ScriptRequest.Builder step =
        ScriptRequest.builder(
                io.workerpools.model.ScriptSyntax.BASH,
                String.join(
                    "\n",
                    "# " + inBody,
                    "mkfifo \"$2\"",
                    "echo \"running $$\"",
                    "read -r go < \"$2\"",
                    "rm -f \"$2\"; echo \"released $go ${#1} ${#WP_VALUE}\""))
            .arguments(inArg, fifo)
            .sensitiveEnv("WP_VALUE", inEnv);
    if (path.equals("directory")) {
      step.file("data.txt", "x".getBytes(StandardCharsets.UTF_8));
    }
    Lines lines = new Lines();
    ScriptExecution exec = transport.start(worker, step.build(), lines);
    SshTestSupport.awaitUntil(
        Duration.ofSeconds(30),
        () -> lines.out().stream().anyMatch(l -> l.startsWith("running ")),
        "the step to run");
    String pid = lines.out().get(0).substring("running ".length());

    Lines list = new Lines();
    ScriptResult listed =
        await(transport.start(worker, ScriptRequest.bash(LIST_COMMAND_LINES), list));
    assertThat(listed.exitCode()).hasValue(0);
    List<String> commandLines = list.out();
    assertThat(commandLines)
        .as("the running step's own process is among them")
        .anySatisfy(l -> assertThat(l).startsWith(pid + " "));
    for (String l : commandLines) {
      assertThat(l).doesNotContain(inBody).doesNotContain(inArg).doesNotContain(inEnv);
    }

    ScriptResult released =
        await(
            transport.start(
                worker,
                ScriptRequest.builder(io.workerpools.model.ScriptSyntax.BASH, "echo go > \"$1\"")
                    .argument(fifo)
                    .build(),
                new Lines()));
    assertThat(released.exitCode()).hasValue(0);
    ScriptResult r = await(exec);
    assertThat(r.exitCode()).as("output: %s", lines.all()).hasValue(0);
    assertThat(lines.out())
        .containsExactly("running " + pid, "released go " + inArg.length() + " " + inEnv.length());
  }
}
