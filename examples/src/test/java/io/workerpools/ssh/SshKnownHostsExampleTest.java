package io.workerpools.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.dispatch.StepResult;
import io.workerpools.examples.SshKnownHostsExample;
import io.workerpools.model.WorkerId;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs {@link SshKnownHostsExample} against a real OpenSSH {@code sshd} on 127.0.0.1 (the extension
 * from transport-ssh's test-jar; this test sits in its package to reach it).
 */
class SshKnownHostsExampleTest {
  @RegisterExtension static final OpenSshServerExtension SSHD = new OpenSshServerExtension();

  @Test
  void theStepRunsOnTheVerifiedWorkerAndAnUnlistedHostKeyIsRefusedWithItsFingerprint()
      throws Exception {
    OpenSshServer s = SSHD.server();
    String user = System.getProperty("user.name");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StepResult r;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      r =
          SshKnownHostsExample.run(
              s.address(), user, s.knownHosts(), s.clientKey("ed25519", "", true), out);
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertThat(r.succeeded()).as(printed).isTrue();
    assertThat(r.worker()).contains(WorkerId.of("build-1"));
    assertThat(printed)
        .contains("build-1: HEALTHY")
        .contains("[deploy@build-1] deploying web-app v2 as " + user + " over SSH")
        .contains("step deploy: SUCCEEDED on build-1")
        .containsPattern("stranger: UNAVAILABLE .*not in the known-hosts file .*SHA256:");
  }
}
