package io.workerpools.ssh;

import io.workerpools.model.Worker;
import io.workerpools.testing.ContainerStepContract;
import io.workerpools.transport.WorkerTransport;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The container contract on an SSH worker: a real OpenSSH sshd on 127.0.0.1 whose sessions run the
 * machine's own docker CLI against the real engine.
 */
class SshContainerStepContractTest extends ContainerStepContract {
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
            "ssh-containers",
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
}
