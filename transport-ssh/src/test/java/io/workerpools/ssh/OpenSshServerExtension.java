package io.workerpools.ssh;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts a real OpenSSH {@code sshd} for a test class and stops it afterwards, with every file,
 * user and process it made. Fails (never skips) with install instructions if {@code sshd} is
 * missing.
 *
 * <pre>{@code
 * @RegisterExtension static final OpenSshServerExtension SSHD = new OpenSshServerExtension();
 * }</pre>
 */
final class OpenSshServerExtension implements BeforeAllCallback, AfterAllCallback {
  private final boolean hostCertificate;
  private OpenSshServer server;
  private String hostCa;

  OpenSshServerExtension() {
    this(false);
  }

  /**
   * @param hostCertificate whether the server presents a certificate for its ed25519 key
   */
  OpenSshServerExtension(boolean hostCertificate) {
    this.hostCertificate = hostCertificate;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    server = new OpenSshServer();
    if (hostCertificate) {
      hostCa = server.withHostCertificate();
    }
    server.start();
  }

  /** The public line of the CA that signed the host certificate (with {@code hostCertificate}). */
  String hostCa() {
    return hostCa;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (server != null) {
      server.stop();
    }
  }

  OpenSshServer server() {
    if (server == null) {
      throw new IllegalStateException("the sshd extension has not started yet");
    }
    return server;
  }
}
