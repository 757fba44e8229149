package io.workerpools.tentacle.internal;

import io.workerpools.tentacle.TentacleCertificate;
import java.io.IOException;
import java.net.Socket;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;

/**
 * An agent's authenticated connections with the thumbprint of the host at the other end, so that
 * removing a host's trust cuts its open connections. Every connection is checked against the
 * trusted set after its handshake as well as during it: a resumed TLS session does not run the
 * trust manager again.
 *
 * <p>Race-free with {@link #cut}: {@link #admit} registers first and checks the set second, while a
 * change publishes the set first and cuts second, so a connection is either refused or cut.
 */
public final class TrustedConnections {
  private final Supplier<Set<String>> trust;
  private final Map<Socket, String> open = new ConcurrentHashMap<>();

  /** Connections checked against {@code trust}. */
  public TrustedConnections(Supplier<Set<String>> trust) {
    this.trust = trust;
  }

  /** The thumbprint of the certificate the peer of an established TLS socket presented. */
  public static String peerOf(SSLSocket s) throws SSLPeerUnverifiedException {
    Certificate[] chain = s.getSession().getPeerCertificates();
    return TentacleCertificate.thumbprintOf((X509Certificate) chain[0]);
  }

  /**
   * Registers {@code socket}, whose peer presented {@code peer}, if that peer is trusted now.
   *
   * @return false (and nothing registered) if it is not: the caller closes the socket
   */
  public boolean admit(Socket socket, String peer) {
    open.put(socket, peer);
    if (!trust.get().contains(peer)) {
      open.remove(socket);
      return false;
    }
    return true;
  }

  /** Forgets a connection that ended. */
  public void forget(Socket socket) {
    open.remove(socket);
  }

  /** Open connections to hosts presenting {@code thumbprint} (monitoring, tests). */
  public int count(String thumbprint) {
    int n = 0;
    for (String p : open.values()) {
      if (p.equals(thumbprint)) {
        n++;
      }
    }
    return n;
  }

  /** Closes every connection whose host is not in {@code trusted}; returns how many. */
  public int cut(Set<String> trusted) {
    int n = 0;
    for (Map.Entry<Socket, String> e : open.entrySet()) {
      if (!trusted.contains(e.getValue())) {
        open.remove(e.getKey());
        try {
          e.getKey().close();
        } catch (IOException ignored) {
          // closing anyway
        }
        n++;
      }
    }
    return n;
  }
}
