package io.workerpools.ssh.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.signature.Signature;

/**
 * Which host-key algorithms a client offers, in which order. A server with several host keys (a
 * stock Debian {@code sshd} has ed25519, ECDSA and RSA) presents the one the client prefers, and a
 * known-hosts file usually holds only one of them, so the order decides whether a correct file
 * verifies. As OpenSSH's {@code order_hostkeyalgs} (sshconnect2.c) does: the algorithms of the key
 * types known for the host come first, certificate algorithms first when a certificate authority is
 * trusted for it, and otherwise the configured order is kept. The default order is OpenSSH's:
 * ed25519 before ECDSA before RSA (MINA's puts ECDSA first, so a host whose ed25519 key was
 * recorded by {@code ssh} would present an unknown ECDSA key).
 */
public final class HostKeyAlgorithms {
  private static final String CERT = "-cert-v01@openssh.com";

  private HostKeyAlgorithms() {}

  /** The plain key type an algorithm verifies: {@code rsa-sha2-512-cert-v01@...} is ssh-rsa. */
  public static String keyType(String algorithm) {
    String a = algorithm;
    if (a.endsWith(CERT)) {
      a = a.substring(0, a.length() - CERT.length());
      if (a.startsWith("sk-")) {
        a = a + "@openssh.com";
      }
    }
    if (a.startsWith("rsa-sha2-")) {
      return "ssh-rsa";
    }
    return a;
  }

  static boolean isCertificate(String algorithm) {
    return algorithm.endsWith(CERT);
  }

  /**
   * MINA's list, stably reordered to OpenSSH's preference: certificates, then ed25519, ECDSA, RSA.
   */
  public static List<NamedFactory<Signature>> opensshOrder(List<NamedFactory<Signature>> mina) {
    List<NamedFactory<Signature>> out = new ArrayList<>(mina);
    out.sort(
        Comparator.comparingInt((NamedFactory<Signature> f) -> isCertificate(f.getName()) ? 0 : 1)
            .thenComparingInt(f -> family(keyType(f.getName()))));
    return List.copyOf(out);
  }

  private static int family(String keyType) {
    if (keyType.equals("ssh-ed25519")) {
      return 0;
    }
    if (keyType.startsWith("ecdsa-")) {
      return 1;
    }
    if (keyType.startsWith("sk-")) {
      return 2;
    }
    return keyType.equals("ssh-rsa") ? 3 : 4;
  }

  /**
   * The algorithms to offer a host: first those whose key type is in {@code knownTypes} (and every
   * certificate algorithm if {@code trustsAuthority}), then the rest, each group in {@code base}'s
   * order. With nothing known, {@code base} unchanged.
   */
  public static List<NamedFactory<Signature>> forHost(
      List<NamedFactory<Signature>> base, Set<String> knownTypes, boolean trustsAuthority) {
    List<NamedFactory<Signature>> first = new ArrayList<>();
    List<NamedFactory<Signature>> last = new ArrayList<>();
    for (NamedFactory<Signature> f : base) {
      String alg = f.getName();
      boolean cert = isCertificate(alg);
      boolean preferred = cert ? trustsAuthority : knownTypes.contains(keyType(alg));
      (preferred ? first : last).add(f);
    }
    first.addAll(last);
    return List.copyOf(first);
  }
}
