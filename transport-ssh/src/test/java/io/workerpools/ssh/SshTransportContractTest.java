package io.workerpools.ssh;

import io.workerpools.model.Worker;
import io.workerpools.testing.WorkerTransportContract;
import io.workerpools.transport.WorkerTransport;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The shared transport contract, passed by the SSH transport against a real OpenSSH sshd. */
class SshTransportContractTest extends WorkerTransportContract {
  @RegisterExtension static final OpenSshServerExtension SSHD = new OpenSshServerExtension();

  private static SshTransport transport;
  private static Worker worker;

  @BeforeAll
  static void start() {
    OpenSshServer s = SSHD.server();
    SshTestSupport.Credentials credentials = new SshTestSupport.Credentials();
    credentials.byId.put("key", SshCredentials.privateKeyFile(s.clientKey("ed25519", "", true)));
    transport = SshTransport.builder(credentials).build();
    worker =
        SshTestSupport.worker(
            "contract",
            SshTestSupport.endpoint(
                s.address(),
                "root",
                Map.of(
                    SshEndpoint.CREDENTIALS,
                    "key",
                    SshEndpoint.KNOWN_HOSTS,
                    s.knownHosts().toString())));
  }

  @AfterAll
  static void stop() {
    if (transport != null) {
      transport.close();
    }
  }

  @Override
  protected WorkerTransport transport() {
    return transport;
  }

  @Override
  protected Worker worker() {
    return worker;
  }

  /** Fewer than the default: {@link SshTransportTest} runs 20 at once on one session already. */
  @Override
  protected int concurrentScripts() {
    return 12;
  }

  @Override
  protected Duration patience() {
    return Duration.ofSeconds(45);
  }
}
