package io.workerpools.tentacle.internal;

import io.workerpools.WorkerPoolsException;
import io.workerpools.tentacle.TentacleCertificate;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Mutual TLS with pinned thumbprints: our certificate as the only key, and a trust manager that
 * accepts exactly the thumbprints a supplier returns at handshake time (so a host can register
 * agents while it runs). No chains, no CAs, no host-name checks: the thumbprint is the identity.
 */
public final class PinnedTls {
  /**
   * The only protocol offered or accepted, on both sides: TLS 1.3 (its suites are all AEAD with
   * forward secrecy; TLS 1.2 would let a peer pick CBC-SHA1 suites).
   */
  public static final String[] PROTOCOLS = {"TLSv1.3"};

  private PinnedTls() {}

  /** A thumbprint that was not trusted; the message names expected and presented thumbprints. */
  public static final class UntrustedPeerException extends CertificateException {
    private static final long serialVersionUID = 1L;
    private final String presented;
    private final Set<String> expected;

    UntrustedPeerException(String role, String presented, Set<String> expected) {
      super(
          "the "
              + role
              + " presented a certificate with thumbprint "
              + presented
              + ", but the expected thumbprint is "
              + (expected.size() == 1 ? expected.iterator().next() : "one of " + expected));
      this.presented = presented;
      this.expected = Set.copyOf(expected);
    }

    /** The thumbprint the peer presented. */
    public String presented() {
      return presented;
    }

    /** The thumbprints that would have been accepted. */
    public Set<String> expected() {
      return expected;
    }
  }

  /** An SSL context presenting {@code own} and trusting only thumbprints from {@code trusted}. */
  public static SSLContext context(TentacleCertificate own, Supplier<Set<String>> trusted) {
    return context(own, new Pinned(trusted, false));
  }

  /**
   * A server-side SSL context presenting {@code own} that accepts any client certificate (one must
   * still be presented, and the TLS handshake proves its key is held): the enrolment port, where
   * the agent is not known yet and the token authorises it. Never for servers' certificates.
   */
  public static SSLContext acceptingAnyClient(TentacleCertificate own) {
    return context(own, new Pinned(Set::of, true));
  }

  private static SSLContext context(TentacleCertificate own, Pinned trustManager) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] pw = "transient".toCharArray();
      ks.setKeyEntry("own", own.privateKey(), pw, new X509Certificate[] {own.certificate()});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
      SSLContext ctx = SSLContext.getInstance("TLSv1.3");
      ctx.init(kmf.getKeyManagers(), new javax.net.ssl.TrustManager[] {trustManager}, null);
      return ctx;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new WorkerPoolsException("cannot set up TLS with certificate " + own.thumbprint(), e);
    }
  }

  /** Restricts a socket to our protocols (the client side). */
  public static void configure(SSLSocket socket) {
    SSLParameters p = socket.getSSLParameters();
    p.setProtocols(PROTOCOLS);
    socket.setSSLParameters(p);
  }

  /** Finds an {@link UntrustedPeerException} in a cause chain. */
  public static UntrustedPeerException untrusted(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof UntrustedPeerException) {
        return (UntrustedPeerException) c;
      }
      for (Throwable s : c.getSuppressed()) {
        UntrustedPeerException u = untrusted(s);
        if (u != null) {
          return u;
        }
      }
    }
    return null;
  }

  private static final String[] REFUSAL_ALERTS = {
    "bad_certificate",
    "certificate_unknown",
    "unknown_ca",
    "certificate_required",
    "access_denied",
    "unsupported_certificate",
    "certificate_revoked",
    "certificate_expired"
  };

  /**
   * Whether the peer refused our certificate: a fatal TLS alert about it was received. Only a
   * received alert counts; a reset or an end of stream is not a refusal.
   */
  public static boolean refusedByPeer(Throwable t) {
    return alertOf(t) != null;
  }

  /** The name of the certificate alert the peer sent, or null if none was received. */
  public static String alertOf(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      for (Throwable sup : c.getSuppressed()) {
        String a = alertOf(sup);
        if (a != null) {
          return a;
        }
      }
      String m = String.valueOf(c.getMessage());
      // The JDK reports a received alert as "Received fatal alert: NAME"; a "Connection reset" or
      // "Broken pipe" while sending our own alert must not count.
      if (c instanceof javax.net.ssl.SSLException && m.contains("Received fatal alert")) {
        for (String alert : REFUSAL_ALERTS) {
          if (m.contains(alert)) {
            return alert;
          }
        }
      }
    }
    return null;
  }

  /** Every message of a cause chain and its suppressed exceptions, joined (for classification). */
  public static String messages(Throwable t) {
    StringBuilder b = new StringBuilder();
    collect(t, b, 0);
    return b.toString();
  }

  private static void collect(Throwable t, StringBuilder b, int depth) {
    for (Throwable c = t; c != null && depth < 32; c = c.getCause(), depth++) {
      b.append(c.getMessage()).append('\n');
      for (Throwable sup : c.getSuppressed()) {
        collect(sup, b, depth + 1);
      }
    }
  }

  private static final class Pinned extends X509ExtendedTrustManager {
    private final Supplier<Set<String>> trusted;
    private final boolean anyClient;

    Pinned(Supplier<Set<String>> trusted, boolean anyClient) {
      this.trusted = trusted;
      this.anyClient = anyClient;
    }

    private void check(X509Certificate[] chain, String role) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the " + role + " presented no certificate");
      }
      if (anyClient && role.equals("client")) {
        return;
      }
      String presented = TentacleCertificate.thumbprintOf(chain[0]);
      Set<String> ok = trusted.get();
      if (!ok.contains(presented)) {
        throw new UntrustedPeerException(role, presented, new TreeSet<>(ok));
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain, "client");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain, "server");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain, "client");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain, "server");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain, "client");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain, "server");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      // Empty: the client sends its certificate whatever the server asks for.
      return new X509Certificate[0];
    }
  }
}
