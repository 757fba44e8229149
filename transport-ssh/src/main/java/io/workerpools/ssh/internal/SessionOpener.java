package io.workerpools.ssh.internal;

import io.workerpools.AuthenticationException;
import io.workerpools.TransportException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.ssh.SshCredentials;
import io.workerpools.ssh.SshEndpoint;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * Makes one authenticated session for a worker: credentials from the host's provider (keys loaded
 * before any connection), the known-hosts lines read before connecting, connect, key exchange and
 * authentication within the connect timeout, and errors that say what to do.
 */
final class SessionOpener {
  private SessionOpener() {}

  static ClientSession open(TransportContext ctx, WorkerId workerId, Worker w, SshEndpoint ep) {
    Duration timeout = ctx.connectTimeout();
    long deadline = System.nanoTime() + timeout.toNanos();
    SshCredentials creds;
    try {
      creds = ctx.credentials().credentials(ep.credentialsId(), w);
    } catch (RuntimeException e) {
      throw new AuthenticationException(
          workerId,
          "the credential provider failed for credentials '"
              + ep.credentialsId()
              + "': "
              + e.getMessage(),
          e);
    }
    if (creds == null) {
      throw new AuthenticationException(
          workerId,
          "the credential provider has no credentials '" + ep.credentialsId() + "'",
          null);
    }
    List<KeyPair> keys =
        creds instanceof SshCredentials.PrivateKey
            ? loadKeys(workerId, (SshCredentials.PrivateKey) creds, ep)
            : List.of();
    HostKeyVerification.Attempt attempt;
    try {
      attempt = new HostKeyVerification.Attempt(ep, ctx.systemKnownHosts(), pinnedKeyType(w));
    } catch (KnownHosts.Unusable e) {
      // Never "no keys known": under trust-on-first-use that would accept any key.
      throw new AuthenticationException(
          workerId, "cannot verify the host key of " + ep.hostAndPort() + ": " + e.getMessage(), e);
    }
    ClientSession s;
    try {
      ConnectFuture cf = ctx.client().connect(ep.user(), ep.host(), ep.port(), attempt.context());
      s = cf.verify(timeout).getSession();
    } catch (Exception e) {
      throw new TransportException(
          workerId,
          "cannot connect to " + ep.hostAndPort() + " within " + timeout + ": " + describe(e),
          e);
    }
    try {
      if (creds instanceof SshCredentials.Password) {
        s.addPasswordIdentity(((SshCredentials.Password) creds).password());
      }
      for (KeyPair k : keys) {
        s.addPublicKeyIdentity(k);
      }
      long left = Math.max(1, deadline - System.nanoTime());
      s.auth().verify(Duration.ofNanos(left));
      return s;
    } catch (Exception e) {
      s.close(true);
      HostKeyVerification.Rejection r = attempt.rejection();
      if (r != null) {
        throw new AuthenticationException(
            workerId, HostKeyMessages.refusal(ep, attempt.files(), r), e);
      }
      if (e instanceof SshException && String.valueOf(e.getMessage()).contains("authentication")) {
        throw new AuthenticationException(
            workerId,
            ep.hostAndPort()
                + " refused user '"
                + ep.user()
                + "' with credentials '"
                + ep.credentialsId()
                + "' ("
                + describe(e)
                + "); check that the key is in the user's authorized_keys or the password is right",
            e);
      }
      throw new TransportException(
          workerId, "cannot log in to " + ep.hostAndPort() + ": " + describe(e), e);
    }
  }

  private static List<KeyPair> loadKeys(
      WorkerId workerId, SshCredentials.PrivateKey key, SshEndpoint ep) {
    String name = "credentials '" + ep.credentialsId() + "'";
    FilePasswordProvider pass =
        key.passphrase().map(FilePasswordProvider::of).orElse(FilePasswordProvider.EMPTY);
    try (InputStream in =
        key.file().isPresent()
            ? Files.newInputStream(key.file().get())
            : new ByteArrayInputStream(key.keyText().get().getBytes(StandardCharsets.UTF_8))) {
      Iterable<KeyPair> pairs =
          SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(name), in, pass);
      List<KeyPair> out = new ArrayList<>();
      if (pairs != null) {
        Iterator<KeyPair> it = pairs.iterator();
        while (it.hasNext()) {
          out.add(it.next());
        }
      }
      if (out.isEmpty()) {
        throw new AuthenticationException(
            workerId, "the private key of " + name + " holds no key", null);
      }
      return out;
    } catch (WorkerPoolsException e) {
      throw e;
    } catch (Exception e) {
      throw new AuthenticationException(
          workerId,
          "cannot read the private key of "
              + name
              + (key.passphrase().isPresent()
                  ? " (is the passphrase right?)"
                  : " (does it need a passphrase?)")
              + ": "
              + describe(e),
          e);
    }
  }

  /** The key type of a pin given as a public key line ({@code ssh-rsa AAAA...}), if it is one. */
  static Optional<String> pinnedKeyType(Worker w) {
    String raw = w.endpoint().properties().get(SshEndpoint.HOST_KEY);
    if (raw == null || raw.strip().regionMatches(true, 0, "SHA256:", 0, 7)) {
      return Optional.empty();
    }
    String[] parts = raw.strip().split("[ \t]+");
    return KeyUtils.getPublicKeyEntryDecoder(parts[0]) == null
        ? Optional.empty()
        : Optional.of(parts[0]);
  }

  static String describe(Throwable e) {
    Throwable t = e;
    String msg = null;
    while (t != null) {
      if (t.getMessage() != null) {
        msg = t.getClass().getSimpleName() + ": " + t.getMessage();
      }
      if (t.getCause() == null || t.getCause() == t) {
        break;
      }
      t = t.getCause();
    }
    return msg == null ? e.getClass().getSimpleName() : msg;
  }
}
