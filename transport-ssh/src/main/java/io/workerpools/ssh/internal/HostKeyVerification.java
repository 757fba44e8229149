package io.workerpools.ssh.internal;

import io.workerpools.ssh.SshEndpoint;
import java.io.IOException;
import java.io.Writer;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.AbstractClientSession;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.signature.Signature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's one host key verifier. It finds the connection attempt a session belongs to in the
 * session's connection context: the endpoint, and the known-hosts lines for that host, read before
 * connecting (so a broken file fails the connection before anything is sent, naming the file and
 * line). As a {@link SessionListener} it orders the host-key algorithms the session offers by the
 * key types known for the host ({@link HostKeyAlgorithms}). It checks the presented key against the
 * pin, or the known-hosts lines:
 *
 * <ol>
 *   <li>a key (or certificate authority) on a matching {@code @revoked} line: refused, REVOKED;
 *   <li>a host certificate signed by an authority on a matching {@code @cert-authority} line:
 *       accepted (MINA has checked its signature, validity and principals); any other certificate
 *       is judged by its plain key;
 *   <li>a key equal to a known key of its type: accepted;
 *   <li>a known type with a different key: refused, CHANGED, whatever the policy;
 *   <li>only other key types known: refused (accept-new does not add a key for a host whose other
 *       keys it knows);
 *   <li>nothing known: refused, or under the explicit accept-new policy added to the endpoint's
 *       known-hosts file.
 * </ol>
 *
 * Every refusal is recorded in the attempt, so the connection error names the key's fingerprint and
 * the reason.
 */
public final class HostKeyVerification implements ServerKeyVerifier, SessionListener {
  private static final Logger LOG = LoggerFactory.getLogger(HostKeyVerification.class);

  /** The connection attempt a session belongs to; set in the connection context. */
  public static final AttributeKey<Attempt> ATTEMPT = new AttributeKey<>();

  private static final ConcurrentMap<Path, Object> FILE_LOCKS = new ConcurrentHashMap<>();

  private final List<NamedFactory<Signature>> baseOrder;

  /**
   * @param baseOrder the client's host-key algorithms, in its order of preference
   */
  public HostKeyVerification(List<NamedFactory<Signature>> baseOrder) {
    this.baseOrder = List.copyOf(baseOrder);
  }

  /** Why a host key was refused. */
  public enum Reason {
    /** Not known, nothing known for the host. */
    UNKNOWN,
    /** Not known, but keys of other types are known for the host. */
    OTHER_TYPES_KNOWN,
    /** A key of the same type is known and differs. */
    CHANGED,
    /** The key is on a {@code @revoked} line. */
    REVOKED,
    /** The endpoint pins another key. */
    PIN_MISMATCH
  }

  /**
   * A refusal: the presented key's type and fingerprint, and the reason; {@code entry} is the line
   * the decision rests on (the revoked or the differing known key; null if none), {@code detail}
   * the known key types or the pin.
   */
  public record Rejection(
      Reason reason, String keyType, String fingerprint, KnownHosts.Entry entry, String detail) {
    public boolean changed() {
      return reason == Reason.CHANGED || reason == Reason.PIN_MISMATCH;
    }
  }

  /** One connection attempt: the endpoint, the known-hosts lines for it, and the refusal if any. */
  public static final class Attempt {
    private final SshEndpoint endpoint;
    private final List<Path> files;
    private final KnownHosts.ForHost known;
    private final Set<String> pinnedTypes;
    private volatile Rejection rejection;

    /**
     * Reads the known-hosts files for the endpoint (none for a pinned key).
     *
     * @param systemFiles files read after the endpoint's own (never written)
     * @param pinnedKeyType the type of the pinned key, if the pin was given as a key line (a
     *     fingerprint alone does not say it)
     * @throws KnownHosts.Unusable if a file cannot be read or holds a broken line
     */
    public Attempt(SshEndpoint endpoint, List<Path> systemFiles, Optional<String> pinnedKeyType) {
      this.endpoint = Objects.requireNonNull(endpoint);
      this.pinnedTypes = pinnedKeyType.map(Set::of).orElse(Set.of());
      if (endpoint.knownHosts().isPresent()) {
        files =
            java.util.stream.Stream.concat(
                    java.util.stream.Stream.of(endpoint.knownHosts().get()), systemFiles.stream())
                .toList();
        known = KnownHosts.forHost(files, endpoint.host(), endpoint.port());
      } else {
        files = List.of();
        known = null;
      }
    }

    public Rejection rejection() {
      return rejection;
    }

    /** The files read, the endpoint's own first. */
    public List<Path> files() {
      return files;
    }

    public AttributeRepository context() {
      return AttributeRepository.ofKeyValuePair(ATTEMPT, this);
    }

    private Rejection reject(Reason reason, PublicKey key, KnownHosts.Entry entry, String detail) {
      Rejection r =
          new Rejection(
              reason, KeyUtils.getKeyType(key), KeyUtils.getFingerPrint(key), entry, detail);
      rejection = r;
      return r;
    }
  }

  private static Attempt attemptOf(Session session) {
    Attempt attempt = session.getAttribute(ATTEMPT);
    if (attempt == null && session instanceof AbstractClientSession) {
      AttributeRepository ctx = ((AbstractClientSession) session).getConnectionContext();
      attempt = ctx == null ? null : ctx.getAttribute(ATTEMPT);
    }
    return attempt;
  }

  /** Before the key exchange: offer first the algorithms of the key types known for the host. */
  @Override
  public void sessionCreated(Session session) {
    Attempt a = attemptOf(session);
    if (a == null) {
      return;
    }
    List<NamedFactory<Signature>> order =
        a.known == null
            ? HostKeyAlgorithms.forHost(baseOrder, a.pinnedTypes, false)
            : HostKeyAlgorithms.forHost(
                baseOrder, a.known.knownTypes(), !a.known.authorities().isEmpty());
    session.setSignatureFactories(order);
    LOG.debug(
        "{}: known host key types {}, offering {}",
        a.endpoint.hostAndPort(),
        a.known == null ? a.pinnedTypes : a.known.knownTypes(),
        org.apache.sshd.common.NamedResource.getNames(order));
  }

  @Override
  public boolean verifyServerKey(ClientSession session, SocketAddress remote, PublicKey key) {
    Attempt attempt = attemptOf(session);
    if (attempt == null) {
      LOG.error("refusing a host key: the session carries no endpoint to verify it against");
      return false;
    }
    try {
      return verify(attempt, key);
    } catch (RuntimeException e) {
      LOG.error("refusing the host key of {}: the check failed", attempt.endpoint.hostAndPort(), e);
      return false;
    }
  }

  private static boolean verify(Attempt attempt, PublicKey presented) {
    SshEndpoint ep = attempt.endpoint;
    PublicKey plain = presented instanceof OpenSshCertificate c ? c.getCertPubKey() : presented;
    if (ep.pinnedFingerprint().isPresent()) {
      if (KeyUtils.getFingerPrint(plain).equals(ep.pinnedFingerprint().get())) {
        return true;
      }
      attempt.reject(Reason.PIN_MISMATCH, plain, null, ep.pinnedFingerprint().get());
      return false;
    }
    KnownHosts.ForHost known = attempt.known;
    Optional<KnownHosts.Entry> revoked = known.revokedEntry(plain);
    if (revoked.isEmpty() && presented instanceof OpenSshCertificate c) {
      revoked = known.revokedEntry(c.getCaPubKey());
    }
    if (revoked.isPresent()) {
      attempt.reject(Reason.REVOKED, plain, revoked.get(), "");
      return false;
    }
    if (presented instanceof OpenSshCertificate c
        && known.authorities().stream()
            .anyMatch(e -> KeyUtils.compareKeys(e.key(), c.getCaPubKey()))) {
      return true;
    }
    String type = KeyUtils.getKeyType(plain);
    List<KnownHosts.Entry> sameType =
        known.known().stream().filter(e -> e.keyType().equals(type)).toList();
    if (sameType.stream().anyMatch(e -> KeyUtils.compareKeys(e.key(), plain))) {
      return true;
    }
    if (!sameType.isEmpty()) {
      attempt.reject(Reason.CHANGED, plain, sameType.get(0), "");
      return false;
    }
    if (!known.known().isEmpty()) {
      attempt.reject(
          Reason.OTHER_TYPES_KNOWN,
          plain,
          known.known().get(0),
          String.join(", ", known.knownTypes()));
      return false;
    }
    if (!ep.acceptNewHostKeys()) {
      attempt.reject(Reason.UNKNOWN, plain, null, "");
      return false;
    }
    Path file = ep.knownHosts().orElseThrow();
    try {
      append(file, known.hostEntryName(), plain);
    } catch (IOException | RuntimeException e) {
      LOG.error(
          "cannot add the new host key of {} to {}: {}", ep.hostAndPort(), file, e.toString());
      attempt.reject(Reason.UNKNOWN, plain, null, "");
      return false;
    }
    LOG.warn(
        "INSECURE: trusting the never-seen host key {} of {} on first use ({} policy); added to {}",
        KeyUtils.getFingerPrint(plain),
        ep.hostAndPort(),
        SshEndpoint.INSECURE_ACCEPT_NEW,
        file);
    return true;
  }

  /** Appends {@code name type base64} to the file (made 0600 if new), on a line of its own. */
  private static void append(Path file, String name, PublicKey key) throws IOException {
    String entry = name + " " + PublicKeyEntry.toString(key) + "\n";
    synchronized (
        FILE_LOCKS.computeIfAbsent(file.toAbsolutePath().normalize(), p -> new Object())) {
      if (!Files.exists(file)) {
        Files.createFile(
            file,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      }
      byte[] existing = Files.readAllBytes(file);
      boolean needsNewline = existing.length > 0 && existing[existing.length - 1] != '\n';
      try (Writer w =
          Files.newBufferedWriter(file, StandardCharsets.ISO_8859_1, StandardOpenOption.APPEND)) {
        w.write((needsNewline ? "\n" : "") + entry);
      }
    }
  }
}
