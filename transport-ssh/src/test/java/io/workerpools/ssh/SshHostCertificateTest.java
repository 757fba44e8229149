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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real {@code sshd} that presents a host certificate (signed with {@code ssh-keygen -s -h}) for
 * its ed25519 key, besides plain ECDSA and RSA keys: a {@code @cert-authority} line for the host is
 * enough to connect; a revoked CA, or a CA line for other hosts, is not.
 */
class SshHostCertificateTest {
  @RegisterExtension static final OpenSshServerExtension SSHD = new OpenSshServerExtension(true);

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

  private static String ca() {
    String[] p = SSHD.hostCa().split(" ");
    return p[0] + " " + p[1];
  }

  private static synchronized ScriptResult run(String... knownHostsLines) throws Exception {
    Path f = SSHD.server().dir().resolve("known_hosts-" + UUID.randomUUID());
    Files.writeString(f, String.join("\n", knownHostsLines) + "\n");
    Worker w =
        SshTestSupport.worker(
            "ca" + (++seq),
            endpoint(
                SSHD.server().address(),
                "root",
                Map.of(SshEndpoint.CREDENTIALS, "key", SshEndpoint.KNOWN_HOSTS, f.toString())));
    return await(
        transport.start(w, ScriptRequest.bash("echo ok"), new Lines()), Duration.ofSeconds(40));
  }

  @Test
  void aCertificateAuthorityLineForTheHostIsEnoughToConnect() throws Exception {
    for (String hosts : List.of("[127.0.0.1]:" + SSHD.server().port(), "*")) {
      ScriptResult r = run("@cert-authority " + hosts + " " + ca());
      assertThat(r.outcome()).as(hosts + ": " + r.message()).isEqualTo(Outcome.EXITED);
      assertThat(r.exitCode()).hasValue(0);
    }
  }

  @Test
  void aCertificateAuthorityForOtherHostsOrARevokedOneIsNotTrusted() throws Exception {
    ScriptResult other = run("@cert-authority *.example.com " + ca());
    assertThat(other.outcome()).isEqualTo(Outcome.COULD_NOT_START);
    assertThat(other.message()).contains("not in the known-hosts file");
    ScriptResult revoked = run("@cert-authority * " + ca(), "@revoked * " + ca());
    assertThat(revoked.outcome()).isEqualTo(Outcome.COULD_NOT_START);
    assertThat(revoked.message()).contains("REVOKED").contains("line 2");
  }

  @Test
  void aPlainKnownKeyStillConnectsToAServerWithACertificate() throws Exception {
    for (String type : List.of("ed25519", "ecdsa", "rsa")) {
      ScriptResult r =
          run(
              "[127.0.0.1]:"
                  + SSHD.server().port()
                  + " "
                  + SSHD.server().hostKeyTypeAndBase64(type));
      assertThat(r.outcome()).as(type + ": " + r.message()).isEqualTo(Outcome.EXITED);
    }
  }
}
