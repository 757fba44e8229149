package io.workerpools.ssh;

import static io.workerpools.ssh.SshTestSupport.await;
import static io.workerpools.ssh.SshTestSupport.endpoint;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Worker;
import io.workerpools.ssh.SshTestSupport.Credentials;
import io.workerpools.ssh.SshTestSupport.Lines;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.ScriptResult.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Host keys against a real OpenSSH {@code sshd} with ed25519, ECDSA and RSA host keys, as a stock
 * Debian server has: whatever single key type a (plain or hashed) known-hosts file holds, the
 * connection is made; revoked keys, broken files, patterns and several files behave as OpenSSH's
 * client does.
 */
class SshHostKeysTest {
  @RegisterExtension static final OpenSshServerExtension SSHD = new OpenSshServerExtension();

  private static final Credentials CREDENTIALS = new Credentials();
  private static SshTransport transport;
  private static int seq;

  @BeforeAll
  static void setUp() {
    CREDENTIALS.byId.put(
        "key", SshCredentials.privateKeyFile(SSHD.server().clientKey("ed25519", "", true)));
    transport = SshTransport.builder(CREDENTIALS).connectTimeout(Duration.ofSeconds(10)).build();
  }

  @AfterAll
  static void tearDown() {
    if (transport != null) {
      transport.close();
    }
  }

  static String hostEntry() {
    return "[127.0.0.1]:" + SSHD.server().port();
  }

  static Path file(String... lines) throws Exception {
    Path f = SSHD.server().dir().resolve("known_hosts-" + UUID.randomUUID());
    Files.writeString(f, lines.length == 0 ? "" : String.join("\n", lines) + "\n");
    return f;
  }

  static String line(String hosts, String type) {
    return hosts + " " + SSHD.server().hostKeyTypeAndBase64(type);
  }

  /** A public key of a type that is not the server's. */
  static String otherKey(String type) {
    Path k = SSHD.server().dir().resolve("other_" + type + "_" + UUID.randomUUID());
    List<String> cmd = new java.util.ArrayList<>(List.of("ssh-keygen", "-q", "-t", type));
    if (type.equals("rsa")) {
      cmd.addAll(List.of("-b", "2048"));
    }
    cmd.addAll(List.of("-N", "", "-f", k.toString()));
    OpenSshServer.run(cmd, null);
    try {
      String[] p = Files.readString(Path.of(k + ".pub")).trim().split(" ");
      return p[0] + " " + p[1];
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  static synchronized Worker worker(Path knownHosts, String policy) {
    Map<String, String> p = new HashMap<>();
    p.put(SshEndpoint.CREDENTIALS, "key");
    p.put(SshEndpoint.KNOWN_HOSTS, knownHosts.toString());
    p.put(SshEndpoint.HOST_KEY_POLICY, policy);
    return SshTestSupport.worker("hk" + (++seq), endpoint(SSHD.server().address(), "root", p));
  }

  static ScriptResult run(SshTransport t, Worker w) {
    return await(t.start(w, ScriptRequest.bash("echo ok"), new Lines()), Duration.ofSeconds(40));
  }

  static ScriptResult run(Worker w) {
    return run(transport, w);
  }

  // ---- defect 1: the algorithm order follows the known key types ----

  @ParameterizedTest(name = "only its {0} key, hashed: {1}")
  @CsvSource({
    "ed25519, false",
    "ecdsa, false",
    "rsa, false",
    "ed25519, true",
    "ecdsa, true",
    "rsa, true"
  })
  void aKnownHostsFileHoldingOnlyOneOfTheServersKeysConnects(String type, boolean hashed)
      throws Exception {
    Path f = file(line(hostEntry(), type));
    if (hashed) {
      OpenSshServer.run(List.of("ssh-keygen", "-H", "-f", f.toString()), null);
      assertThat(Files.readString(f)).startsWith("|1|").doesNotContain("127.0.0.1");
    }
    ScriptResult r = run(worker(f, SshEndpoint.STRICT));
    assertThat(r.outcome()).as(r.message()).isEqualTo(Outcome.EXITED);
    assertThat(r.exitCode()).hasValue(0);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"ed25519", "ecdsa", "rsa"})
  void aWrongKeyOfAKnownTypeIsStillRefusedAsChanged(String type) throws Exception {
    Path f = file(hostEntry() + " " + otherKey(type));
    for (String policy : List.of(SshEndpoint.STRICT, SshEndpoint.INSECURE_ACCEPT_NEW)) {
      ScriptResult r = run(worker(f, policy));
      assertThat(r.outcome()).as(policy).isEqualTo(Outcome.COULD_NOT_START);
      assertThat(r.message())
          .contains("HOST KEY HAS CHANGED")
          .contains(SSHD.server().hostFingerprint(type))
          .contains(f + " line 1");
    }
    assertThat(Files.readAllLines(f)).hasSize(1);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"ed25519", "ecdsa", "rsa"})
  void aPinGivenAsAKeyLineOfAnyTypeConnects(String type) {
    Map<String, String> p = new HashMap<>();
    p.put(SshEndpoint.CREDENTIALS, "key");
    p.put(SshEndpoint.HOST_KEY, SSHD.server().hostPublicKey(type));
    Worker w;
    synchronized (SshHostKeysTest.class) {
      w = SshTestSupport.worker("pin" + (++seq), endpoint(SSHD.server().address(), "root", p));
    }
    ScriptResult r = run(w);
    assertThat(r.outcome()).as(r.message()).isEqualTo(Outcome.EXITED);
  }

  // ---- defect 2: @revoked on any port and for patterns ----

  @ParameterizedTest(name = "@revoked {0}")
  @ValueSource(strings = {"127.0.0.1", "[127.0.0.1]:PORT", "*", "127.0.0.*,other.example"})
  void aRevokedKeyIsRefusedWhateverPatternNamesTheHost(String pattern) throws Exception {
    String revoked = pattern.replace("PORT", Integer.toString(SSHD.server().port()));
    Path f = file(line(hostEntry(), "ed25519"), "@revoked " + line(revoked, "ed25519"));
    for (String policy : List.of(SshEndpoint.STRICT, SshEndpoint.INSECURE_ACCEPT_NEW)) {
      ScriptResult r = run(worker(f, policy));
      assertThat(r.outcome()).as(policy).isEqualTo(Outcome.COULD_NOT_START);
      assertThat(r.message())
          .contains("REVOKED")
          .contains(SSHD.server().hostFingerprint("ed25519"))
          .contains(f + " line 2");
    }
  }

  // ---- defect 5: unreadable or malformed files are errors, never empty ----

  @Test
  void anUnreadableKnownHostsFileIsAnErrorNamingIt() throws Exception {
    Path dir = Files.createDirectory(SSHD.server().dir().resolve("kh-dir-" + UUID.randomUUID()));
    for (String policy : List.of(SshEndpoint.STRICT, SshEndpoint.INSECURE_ACCEPT_NEW)) {
      ScriptResult r = run(worker(dir, policy));
      assertThat(r.outcome()).as(policy).isEqualTo(Outcome.COULD_NOT_START);
      assertThat(r.message()).contains("cannot read the known-hosts file " + dir);
    }
  }

  /**
   * A changed key in a file whose other line is broken: a reader that drops the broken file as
   * empty would trust the server's key as new under accept-new.
   */
  @Test
  void aMalformedLineIsAnErrorNamingFileAndLineNotAnEmptyFile() throws Exception {
    Path f =
        file(
            hostEntry() + " " + otherKey("ed25519"),
            "# a comment and a blank line are fine",
            "",
            hostEntry() + " ssh-ed25519 AAAA!!!this-is-not-base64");
    ScriptResult r = run(worker(f, SshEndpoint.INSECURE_ACCEPT_NEW));
    assertThat(r.outcome()).isEqualTo(Outcome.COULD_NOT_START);
    assertThat(r.message()).contains(f + " line 4").contains("not a known-hosts line");
    assertThat(Files.readAllLines(f)).hasSize(4);
  }

  // ---- OpenSSH conventions ----

  @Test
  void wildcardAndNegatedPatternsMatchAsInOpenSsh() throws Exception {
    int port = SSHD.server().port();
    assertThat(run(worker(file(line("[127.0.0.*]:" + port, "ecdsa")), "strict")).exitCode())
        .hasValue(0);
    assertThat(
            run(worker(file(line("!*.example,[127.0.0.?]:" + port + ",x", "rsa")), "strict"))
                .exitCode())
        .hasValue(0);
    ScriptResult negated =
        run(
            worker(
                file(line("[127.0.0.*]:" + port + ",![127.0.0.1]:" + port, "ed25519")), "strict"));
    assertThat(negated.outcome()).isEqualTo(Outcome.COULD_NOT_START);
    assertThat(negated.message()).contains("not in the known-hosts file");
    ScriptResult otherPort = run(worker(file(line("[127.0.0.1]:1", "ed25519")), "strict"));
    assertThat(otherPort.message()).contains("not in the known-hosts file");
  }

  @Test
  void onlyOtherKeyTypesKnownIsRefusedEvenUnderAcceptNewAndSaysWhichAreKnown() throws Exception {
    // A server that does not offer the type the file knows (here P-384: this server has P-256).
    Path f = file();
    Path p384 = SSHD.server().dir().resolve("p384_" + UUID.randomUUID());
    OpenSshServer.run(
        List.of("ssh-keygen", "-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f", p384.toString()),
        null);
    String[] pub = Files.readString(Path.of(p384 + ".pub")).trim().split(" ");
    Files.writeString(f, hostEntry() + " " + pub[0] + " " + pub[1] + "\n");
    ScriptResult r = run(worker(f, SshEndpoint.INSECURE_ACCEPT_NEW));
    assertThat(r.outcome()).isEqualTo(Outcome.COULD_NOT_START);
    assertThat(r.message()).contains("ecdsa-sha2-nistp384").contains("ssh-keyscan -t");
    assertThat(Files.readAllLines(f)).hasSize(1);
  }

  @Test
  void aSystemFileAndAUserFileAreBothRead() throws Exception {
    Path system = file("# system", line(hostEntry(), "rsa"));
    Path user = file(line("other.example", "ed25519"));
    try (SshTransport t =
        SshTransport.builder(CREDENTIALS)
            .connectTimeout(Duration.ofSeconds(10))
            .systemKnownHosts(system, SSHD.server().dir().resolve("no-such-file"))
            .build()) {
      ScriptResult r = run(t, worker(user, SshEndpoint.STRICT));
      assertThat(r.outcome()).as(r.message()).isEqualTo(Outcome.EXITED);
      // A changed key in the system file is still a change.
      Path system2 = file(hostEntry() + " " + otherKey("ed25519"));
      try (SshTransport t2 =
          SshTransport.builder(CREDENTIALS)
              .connectTimeout(Duration.ofSeconds(10))
              .systemKnownHosts(system2)
              .build()) {
        ScriptResult changed = run(t2, worker(file(), SshEndpoint.INSECURE_ACCEPT_NEW));
        assertThat(changed.message())
            .contains("HOST KEY HAS CHANGED")
            .contains(system2 + " line 1");
      }
    }
  }

  @Test
  void acceptNewAddsTheKeyToTheUsersFileReadableByOpenSsh() throws Exception {
    Path f = SSHD.server().dir().resolve("tofu-" + UUID.randomUUID());
    Worker w = worker(f, SshEndpoint.INSECURE_ACCEPT_NEW);
    assertThat(run(w).exitCode()).hasValue(0);
    assertThat(Files.readString(f).trim())
        .isEqualTo(hostEntry() + " " + SSHD.server().hostKeyTypeAndBase64("ed25519"));
    assertThat(java.nio.file.Files.getPosixFilePermissions(f))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    String found =
        OpenSshServer.run(List.of("ssh-keygen", "-F", hostEntry(), "-f", f.toString()), null);
    assertThat(found).contains("ssh-ed25519");
    assertThat(run(worker(f, SshEndpoint.STRICT)).exitCode()).hasValue(0);
  }
}
