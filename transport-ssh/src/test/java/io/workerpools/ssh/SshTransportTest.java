package io.workerpools.ssh;

import static io.workerpools.ssh.SshTestSupport.await;
import static io.workerpools.ssh.SshTestSupport.awaitUntil;
import static io.workerpools.ssh.SshTestSupport.endpoint;
import static io.workerpools.ssh.SshTestSupport.worker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.ssh.SshTestSupport.Credentials;
import io.workerpools.ssh.SshTestSupport.Lines;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.ScriptResult.Outcome;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The SSH transport against a real OpenSSH sshd on 127.0.0.1. */
class SshTransportTest {
  @RegisterExtension static final OpenSshServerExtension SSHD = new OpenSshServerExtension();

  private static final Credentials CREDENTIALS = new Credentials();
  private static SshTransport transport;
  private static Path knownHosts;
  private static int workerSeq;

  @BeforeAll
  static void setUp() {
    OpenSshServer s = SSHD.server();
    CREDENTIALS.byId.put(
        "ed25519", SshCredentials.privateKeyFile(s.clientKey("ed25519", "", true)));
    knownHosts = s.knownHosts();
    transport =
        SshTransport.builder(CREDENTIALS)
            .connectTimeout(Duration.ofSeconds(10))
            .killGrace(Duration.ofSeconds(5))
            .build();
  }

  @AfterAll
  static void tearDown() {
    if (transport != null) {
      transport.close();
    }
  }

  /** A fresh worker (its own session) logging in as root with the ed25519 key. */
  private static Worker rootWorker() {
    return rootWorker("ed25519", Map.of(SshEndpoint.KNOWN_HOSTS, knownHosts.toString()));
  }

  private static synchronized Worker rootWorker(String credentials, Map<String, String> props) {
    Map<String, String> p = new java.util.HashMap<>(props);
    p.put(SshEndpoint.CREDENTIALS, credentials);
    return worker("w" + (++workerSeq), endpoint(SSHD.server().address(), "root", p));
  }

  private static long acceptedLogins() {
    try {
      return Files.readAllLines(SSHD.server().dir().resolve("sshd.log")).stream()
          .filter(l -> l.startsWith("Accepted "))
          .count();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static ScriptResult run(Worker w, ScriptRequest r, Lines lines) {
    return await(transport.start(w, r, lines));
  }

  @Test
  void ed25519KeyRunsAScriptAndReportsItsExitCode() {
    Lines lines = new Lines();
    ScriptResult r =
        run(rootWorker(), ScriptRequest.bash("echo hello; echo oops >&2; exit 7"), lines);
    assertThat(r.outcome()).isEqualTo(Outcome.EXITED);
    assertThat(r.exitCode().getAsInt()).isEqualTo(7);
    assertThat(lines.out()).containsExactly("hello");
    assertThat(lines.err()).containsExactly("oops");
  }

  @Test
  void ecdsaKeyWithPassphraseLogsIn() {
    Path key = SSHD.server().clientKey("ecdsa", "correct horse", true);
    CREDENTIALS.byId.put("ecdsa-pass", SshCredentials.privateKeyFile(key, "correct horse"));
    Lines lines = new Lines();
    ScriptResult r =
        run(
            rootWorker("ecdsa-pass", Map.of(SshEndpoint.KNOWN_HOSTS, knownHosts.toString())),
            ScriptRequest.bash("echo $((6*7))"),
            lines);
    assertThat(r.succeeded()).as(r.message()).isTrue();
    assertThat(lines.out()).containsExactly("42");
  }

  @Test
  void rsaKeyGivenAsTextLogsIn() throws Exception {
    Path key = SSHD.server().clientKey("rsa", "", true);
    CREDENTIALS.byId.put(
        "rsa-text", SshCredentials.privateKey(Files.readString(key), Optional.empty()));
    ScriptResult r =
        run(
            rootWorker("rsa-text", Map.of(SshEndpoint.KNOWN_HOSTS, knownHosts.toString())),
            ScriptRequest.bash("true"),
            new Lines());
    assertThat(r.succeeded()).as(r.message()).isTrue();
  }

  @Test
  void wrongPassphraseIsReportedWithoutConnecting() {
    Path key = SSHD.server().clientKey("ed25519", "right", true);
    CREDENTIALS.byId.put("bad-pass", SshCredentials.privateKeyFile(key, "wrong"));
    ScriptResult r =
        run(
            rootWorker("bad-pass", Map.of(SshEndpoint.KNOWN_HOSTS, knownHosts.toString())),
            ScriptRequest.bash("true"),
            new Lines());
    assertThat(r.outcome()).isEqualTo(Outcome.COULD_NOT_START);
    assertThat(r.message()).contains("credentials 'bad-pass'").contains("passphrase");
    assertThat(r.message()).doesNotContain("wrong");
  }

  @Test
  void passwordLogsInAThrowawayUser() {
    String[] userAndPassword = SSHD.server().passwordUser();
    CREDENTIALS.byId.put("pw", SshCredentials.password(userAndPassword[1]));
    Worker w =
        worker(
            "pw-worker",
            endpoint(
                SSHD.server().address(),
                userAndPassword[0],
                Map.of(
                    SshEndpoint.CREDENTIALS,
                    "pw",
                    SshEndpoint.KNOWN_HOSTS,
                    knownHosts.toString())));
    Lines lines = new Lines();
    ScriptResult r = run(w, ScriptRequest.bash("id -un"), lines);
    assertThat(r.succeeded()).as(r.message()).isTrue();
    assertThat(lines.out()).containsExactly(userAndPassword[0]);
  }

  @Test
  void aKeyTheServerDoesNotKnowIsRefused() {
    Path key = SSHD.server().clientKey("ed25519", "", false);
    CREDENTIALS.byId.put("unknown-key", SshCredentials.privateKeyFile(key));
    Worker w = rootWorker("unknown-key", Map.of(SshEndpoint.KNOWN_HOSTS, knownHosts.toString()));
    ScriptResult r = run(w, ScriptRequest.bash("true"), new Lines());
    assertThat(r.outcome()).isEqualTo(Outcome.COULD_NOT_START);
    assertThat(r.message()).contains("refused user 'root'").contains("credentials 'unknown-key'");
    HealthReport h = health(w);
    assertThat(h.status()).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(h.message()).contains("refused user 'root'");
  }

  @Test
  void anUnknownHostKeyIsRefusedShowingItsFingerprintAndHowToTrustIt() throws Exception {
    Path empty = SSHD.server().dir().resolve("empty_known_hosts");
    Files.writeString(empty, "");
    ScriptResult r =
        run(
            rootWorker("ed25519", Map.of(SshEndpoint.KNOWN_HOSTS, empty.toString())),
            ScriptRequest.bash("true"),
            new Lines());
    assertThat(r.outcome()).isEqualTo(Outcome.COULD_NOT_START);
    assertThat(r.message())
        .contains("not in the known-hosts file")
        .contains(serverFingerprint())
        .contains("ssh-keyscan -p " + SSHD.server().port());
    assertThat(Files.readString(empty)).isEmpty();
  }

  @Test
  void aChangedHostKeyIsRefusedEvenUnderAcceptNew() throws Exception {
    Path other = SSHD.server().dir().resolve("other_host_key");
    OpenSshServer.run(
        List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other.toString()), null);
    String[] pub = Files.readString(Path.of(other + ".pub")).split(" ");
    Path changed = SSHD.server().dir().resolve("changed_known_hosts");
    Files.writeString(
        changed, "[127.0.0.1]:" + SSHD.server().port() + " " + pub[0] + " " + pub[1] + "\n");
    for (String policy : List.of(SshEndpoint.STRICT, SshEndpoint.INSECURE_ACCEPT_NEW)) {
      ScriptResult r =
          run(
              rootWorker(
                  "ed25519",
                  Map.of(
                      SshEndpoint.KNOWN_HOSTS,
                      changed.toString(),
                      SshEndpoint.HOST_KEY_POLICY,
                      policy)),
              ScriptRequest.bash("true"),
              new Lines());
      assertThat(r.outcome()).as(policy).isEqualTo(Outcome.COULD_NOT_START);
      assertThat(r.message()).contains("HOST KEY HAS CHANGED").contains(serverFingerprint());
    }
  }

  @Test
  void aWrongPinnedKeyIsRefusedAndTheRightOneAccepted() throws Exception {
    Path other = SSHD.server().dir().resolve("pin_other_key");
    OpenSshServer.run(
        List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other.toString()), null);
    String wrongLine = Files.readString(Path.of(other + ".pub")).trim();
    ScriptResult wrong =
        run(
            rootWorker("ed25519", Map.of(SshEndpoint.HOST_KEY, wrongLine)),
            ScriptRequest.bash("true"),
            new Lines());
    assertThat(wrong.outcome()).isEqualTo(Outcome.COULD_NOT_START);
    assertThat(wrong.message()).contains("but the endpoint pins").contains(serverFingerprint());

    ScriptResult right =
        run(
            rootWorker("ed25519", Map.of(SshEndpoint.HOST_KEY, serverFingerprint())),
            ScriptRequest.bash("true"),
            new Lines());
    assertThat(right.succeeded()).as(right.message()).isTrue();
  }

  @Test
  void acceptNewTrustsOnFirstUseAndRecordsTheKey() throws Exception {
    Path tofu = SSHD.server().dir().resolve("tofu_known_hosts");
    Files.writeString(tofu, "");
    ScriptResult r =
        run(
            rootWorker(
                "ed25519",
                Map.of(
                    SshEndpoint.KNOWN_HOSTS,
                    tofu.toString(),
                    SshEndpoint.HOST_KEY_POLICY,
                    SshEndpoint.INSECURE_ACCEPT_NEW)),
            ScriptRequest.bash("true"),
            new Lines());
    assertThat(r.succeeded()).as(r.message()).isTrue();
    String pubBase64 = SSHD.server().hostPublicKey().split(" ")[1];
    assertThat(Files.readString(tofu)).contains(pubBase64);
  }

  @Test
  void argumentsEnvironmentAndFilesArriveVerbatim() {
    List<String> args =
        List.of(
            "plain",
            "",
            "two words",
            "'single' \"double\"",
            "$(touch /tmp/pwned) `id` $HOME ${x}",
            "; rm -rf / #",
            "line1\nline2\n",
            "-e",
            "--",
            "tab\there",
            "ünïcødé ✓",
            "*",
            "\\back\\slash");
    ScriptRequest.Builder b =
        ScriptRequest.builder(
            ScriptSyntax.BASH,
            String.join(
                "\n",
                "for a in \"$@\"; do printf %s \"$a\" | base64 -w0; echo; done",
                "printf %s \"$WP_VALUE\" | base64 -w0; echo",
                "cat sub/dir/data.bin | base64 -w0; echo"));
    args.forEach(b::argument);
    String envValue = "a'b\"c $(id) \n end";
    b.env("WP_VALUE", envValue);
    byte[] data = {0, 1, 2, (byte) 255, '\n', 'x'};
    b.file("sub/dir/data.bin", data);
    Lines lines = new Lines();
    ScriptResult r = run(rootWorker(), b.build(), lines);
    assertThat(r.succeeded()).as(r.message() + lines.err()).isTrue();
    List<String> decoded =
        lines.out().stream()
            .map(s -> new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8))
            .collect(Collectors.toList());
    List<String> expected = new ArrayList<>(args);
    expected.add(envValue);
    assertThat(decoded.subList(0, args.size() + 1)).containsExactlyElementsOf(expected);
    assertThat(Base64.getDecoder().decode(lines.out().get(args.size() + 1))).isEqualTo(data);
    assertThat(Path.of("/tmp/pwned")).doesNotExist();
  }

  @Test
  void longOutputArrivesWholeAndInOrder() {
    int n = 50_000;
    Lines lines = new Lines();
    ScriptResult r =
        run(rootWorker(), ScriptRequest.bash("seq 1 " + n + "; printf 'no newline'"), lines);
    assertThat(r.succeeded()).isTrue();
    List<String> out = lines.out();
    assertThat(out).hasSize(n + 1);
    for (int i = 0; i < n; i++) {
      if (!out.get(i).equals(Integer.toString(i + 1))) {
        throw new AssertionError("line " + i + " was " + out.get(i));
      }
    }
    assertThat(out.get(n)).isEqualTo("no newline");
  }

  @Test
  void twentyConcurrentStepsShareOneSession() {
    Worker w = rootWorker();
    assertThat(await(transport.start(w, ScriptRequest.bash("true"), new Lines())).succeeded())
        .isTrue();
    long loginsBefore = acceptedLogins();
    List<ScriptExecution> running = new ArrayList<>();
    List<Lines> sinks = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      Lines l = new Lines();
      sinks.add(l);
      running.add(
          transport.start(
              w,
              ScriptRequest.builder(ScriptSyntax.BASH, "sleep 0.3; echo \"step $1\"")
                  .argument(Integer.toString(i))
                  .build(),
              l));
    }
    for (int i = 0; i < 20; i++) {
      ScriptResult r = await(running.get(i), Duration.ofSeconds(60));
      assertThat(r.succeeded()).as("step " + i + ": " + r.message()).isTrue();
      assertThat(sinks.get(i).out()).containsExactly("step " + i);
    }
    assertThat(acceptedLogins()).isEqualTo(loginsBefore);
  }

  @Test
  void cancellationKillsTheRemoteProcessGroupAndRemovesTheTempDir() {
    Worker w = rootWorker();
    Lines lines = new Lines();
    ScriptExecution e =
        transport.start(
            w,
            ScriptRequest.bash("sleep 987651 & (sleep 987652) & echo started; sleep 987653; wait"),
            lines);
    awaitUntil(Duration.ofSeconds(20), () -> lines.contains("started"), "the step to start");
    e.cancel();
    ScriptResult r = await(e);
    assertThat(r.outcome()).isEqualTo(Outcome.CANCELLED);
    assertThat(r.message()).contains("killed");
    Lines check = new Lines();
    ScriptResult left =
        run(
            w,
            ScriptRequest.bash(
                "pgrep -f 'sleep 98765[123]' && exit 1; ls -d \"${TMPDIR:-/tmp}\"/workerpools-* | grep -v \"^$PWD\\$\"; exit 0"),
            check);
    assertThat(left.exitCode().getAsInt()).as("remote processes left: " + check.out()).isZero();
    assertThat(check.out()).as("temp dirs left").isEmpty();
    assertThat(SSHD.server().remoteTmp()).isDirectory();
  }

  @Test
  void aStepWithFilesIsCancelledAndItsPrivateDirectoryRemoved() {
    Worker w = rootWorker();
    Lines lines = new Lines();
    ScriptExecution e =
        transport.start(
            w,
            ScriptRequest.builder(
                    ScriptSyntax.BASH, "cat in.txt; echo \"dir=$PWD\"; sleep 987661 & wait")
                .file("in.txt", "hello\n".getBytes(StandardCharsets.UTF_8))
                .build(),
            lines);
    awaitUntil(Duration.ofSeconds(20), () -> lines.contains("hello"), "the step to start");
    awaitUntil(Duration.ofSeconds(20), () -> lines.out().size() >= 2, "the step's directory");
    String dir = lines.out().get(1).substring("dir=".length());
    assertThat(dir).contains("/workerpools-");
    e.cancel();
    ScriptResult r = await(e);
    assertThat(r.outcome()).isEqualTo(Outcome.CANCELLED);
    Lines check = new Lines();
    ScriptResult left =
        run(
            w,
            ScriptRequest.builder(
                    ScriptSyntax.BASH, "pgrep -f 'sleep 98766[1]' && exit 1; [ ! -e \"$1\" ]")
                .argument(dir)
                .build(),
            check);
    assertThat(left.exitCode().getAsInt())
        .as("processes or the directory left: " + check.out())
        .isZero();
  }

  @Test
  void aStepCancelledAsSoonAsItStartsLeavesNothingRunning() {
    Worker w = rootWorker();
    assertThat(run(w, ScriptRequest.bash("true"), new Lines()).succeeded()).isTrue();
    for (int i = 0; i < 5; i++) {
      ScriptExecution e = transport.start(w, ScriptRequest.bash("sleep 98767" + i), new Lines());
      e.cancel();
      ScriptResult r = await(e);
      assertThat(r.outcome()).isEqualTo(Outcome.CANCELLED);
    }
    Lines check = new Lines();
    ScriptResult left = run(w, ScriptRequest.bash("pgrep -f 'sleep 98767[0-4]'; true"), check);
    assertThat(left.succeeded()).isTrue();
    assertThat(check.out()).as("processes left").isEmpty();
  }

  @Test
  void aFileLessStepIsOneRemoteProcessLeadingItsOwnGroupWithOnlyItsOwnOutput() {
    Lines lines = new Lines();
    ScriptResult r =
        run(
            rootWorker(),
            ScriptRequest.bash(
                "read -r -a s < /proc/$$/stat; echo \"$$ ${s[4]} ${s[5]}\"; echo \"ppid $PPID\";"
                    + " ps -o comm= -p $PPID"),
            lines);
    assertThat(r.succeeded()).as(r.message()).isTrue();
    String[] pidGroupSession = lines.out().get(0).split(" ");
    assertThat(pidGroupSession[1]).as("process group").isEqualTo(pidGroupSession[0]);
    assertThat(pidGroupSession[2]).as("session").isEqualTo(pidGroupSession[0]);
    assertThat(lines.out().get(2)).as("the script's parent is sshd itself").startsWith("sshd");
    assertThat(lines.err()).isEmpty();
    assertThat(lines.out()).hasSize(3);
  }

  @Test
  void healthCheckReusesTheSessionAndReportsLatencyAndOs() {
    Worker w = rootWorker();
    HealthReport first = health(w);
    assertThat(first.status()).as(first.message()).isEqualTo(HealthStatus.HEALTHY);
    long logins = acceptedLogins();
    HealthReport second = health(w);
    assertThat(second.status()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(second.details().get("os")).startsWith("Linux");
    assertThat(second.latency()).isPositive();
    assertThat(acceptedLogins()).isEqualTo(logins);
  }

  @Test
  void anUnreachableWorkerIsUnavailableAndItsStepsCouldNotStart() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Worker w =
        worker(
            "nowhere",
            endpoint(
                "127.0.0.1:" + closedPort,
                "root",
                Map.of(
                    SshEndpoint.CREDENTIALS,
                    "ed25519",
                    SshEndpoint.KNOWN_HOSTS,
                    knownHosts.toString())));
    HealthReport h = health(w);
    assertThat(h.status()).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(h.message()).contains("cannot connect to 127.0.0.1:" + closedPort);
    ScriptResult r = run(w, ScriptRequest.bash("true"), new Lines());
    assertThat(r.outcome()).isEqualTo(Outcome.COULD_NOT_START);
  }

  @Test
  void connectWarmsUpOneSessionThatStepsThenReuse() throws Exception {
    Worker w = rootWorker();
    long before = acceptedLogins();
    transport.connect(w).toCompletableFuture().get(30, TimeUnit.SECONDS);
    transport.connect(w).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(run(w, ScriptRequest.bash("true"), new Lines()).succeeded()).isTrue();
    assertThat(acceptedLogins()).isEqualTo(before + 1);
  }

  @Test
  void onlyBashIsAccepted() {
    Worker w = rootWorker();
    assertThatThrownBy(
            () ->
                transport.start(
                    w,
                    ScriptRequest.builder(ScriptSyntax.POWERSHELL, "Write-Host hi").build(),
                    new Lines()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("runs bash only");
    assertThat(transport.supports(Endpoint.of("ssh", "h:22"))).isTrue();
    assertThat(transport.supports(Endpoint.local())).isFalse();
  }

  private static HealthReport health(Worker w) {
    try {
      return transport
          .checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(20)))
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String serverFingerprint() {
    return SshEndpoint.fingerprintOf(SSHD.server().hostPublicKey());
  }

  static List<LogLine> none() {
    return List.of();
  }
}
