package io.workerpools.ssh.internal;

import io.workerpools.ssh.SshEndpoint;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.keyverifier.KnownHostsServerKeyVerifier;
import org.apache.sshd.client.keyverifier.RejectAllServerKeyVerifier;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.AbstractClientSession;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's one host key verifier. It finds the endpoint a session was opened for in the
 * session's connection context and checks the presented key against that endpoint's pinned
 * fingerprint or known-hosts file; it records why a key was refused, so that the connection error
 * can show the presented fingerprint. Nothing is accepted without a pin or a known-hosts entry,
 * except new keys under the explicit {@link SshEndpoint#INSECURE_ACCEPT_NEW} policy.
 */
public final class HostKeyVerification implements ServerKeyVerifier {
  private static final Logger LOG = LoggerFactory.getLogger(HostKeyVerification.class);

  /** The connection attempt a session belongs to; set in the connection context. */
  public static final AttributeKey<Attempt> ATTEMPT = new AttributeKey<>();

  private final ConcurrentMap<Path, Recording> strict = new ConcurrentHashMap<>();
  private final ConcurrentMap<Path, Recording> acceptNew = new ConcurrentHashMap<>();

  /** Why a host key was refused. */
  public record Rejection(String keyType, String fingerprint, boolean changed) {}

  /** One connection attempt: the endpoint to verify against, and the refusal if any. */
  public static final class Attempt {
    private final SshEndpoint endpoint;
    private volatile Rejection rejection;

    public Attempt(SshEndpoint endpoint) {
      this.endpoint = Objects.requireNonNull(endpoint);
    }

    public Rejection rejection() {
      return rejection;
    }

    public AttributeRepository context() {
      return AttributeRepository.ofKeyValuePair(ATTEMPT, this);
    }
  }

  @Override
  public boolean verifyServerKey(ClientSession session, SocketAddress remote, PublicKey key) {
    Attempt attempt = session.getAttribute(ATTEMPT);
    if (attempt == null && session instanceof AbstractClientSession) {
      AttributeRepository ctx = ((AbstractClientSession) session).getConnectionContext();
      attempt = ctx == null ? null : ctx.getAttribute(ATTEMPT);
    }
    if (attempt == null) {
      LOG.error("refusing a host key: the session carries no endpoint to verify it against");
      return false;
    }
    SshEndpoint ep = attempt.endpoint;
    if (ep.pinnedFingerprint().isPresent()) {
      String presented = KeyUtils.getFingerPrint(key);
      if (presented.equals(ep.pinnedFingerprint().get())) {
        return true;
      }
      attempt.rejection = new Rejection(KeyUtils.getKeyType(key), presented, true);
      return false;
    }
    Path file = ep.knownHosts().orElseThrow();
    ConcurrentMap<Path, Recording> cache = ep.acceptNewHostKeys() ? acceptNew : strict;
    Recording verifier = cache.computeIfAbsent(file, f -> new Recording(ep.acceptNewHostKeys(), f));
    return verifier.check(session, remote, key, attempt);
  }

  /** A known-hosts verifier that records the reason for a refusal in the attempt. */
  private static final class Recording extends KnownHostsServerKeyVerifier {
    private final ThreadLocal<Attempt> current = new ThreadLocal<>();
    private final boolean acceptNew;

    Recording(boolean acceptNew, Path file) {
      super(
          acceptNew ? AcceptAllServerKeyVerifier.INSTANCE : RejectAllServerKeyVerifier.INSTANCE,
          file);
      this.acceptNew = acceptNew;
      setModifiedServerKeyAcceptor(
          (session, remote, entry, expected, actual) -> {
            Attempt a = current.get();
            if (a != null) {
              a.rejection =
                  new Rejection(KeyUtils.getKeyType(actual), KeyUtils.getFingerPrint(actual), true);
            }
            return false;
          });
    }

    boolean check(ClientSession session, SocketAddress remote, PublicKey key, Attempt attempt) {
      current.set(attempt);
      try {
        return verifyServerKey(session, remote, key);
      } finally {
        current.remove();
      }
    }

    @Override
    protected boolean acceptUnknownHostKey(
        ClientSession session, SocketAddress remote, PublicKey key) {
      boolean ok = super.acceptUnknownHostKey(session, remote, key);
      if (ok && acceptNew) {
        LOG.warn(
            "INSECURE: trusting the never-seen host key {} of {} on first use ({} policy)",
            KeyUtils.getFingerPrint(key),
            remote,
            SshEndpoint.INSECURE_ACCEPT_NEW);
      }
      if (!ok) {
        Attempt a = current.get();
        if (a != null) {
          a.rejection =
              new Rejection(KeyUtils.getKeyType(key), KeyUtils.getFingerPrint(key), false);
        }
      }
      return ok;
    }
  }
}
