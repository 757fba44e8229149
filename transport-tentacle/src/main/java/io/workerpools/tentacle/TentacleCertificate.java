package io.workerpools.tentacle;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPoolsException;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A self-signed certificate and its private key: the identity of an agent or of a host. Trust is
 * pinned by {@link #thumbprint()} (SHA-256 over the DER certificate, upper-case hex); chains, CAs
 * and revocation are not used.
 *
 * <p>{@link #loadOrCreate(Path, String)} creates an ECDSA P-256 key on first use, writes the key
 * file readable by its owner only ({@code rw-------}) and reuses both files on later calls.
 */
public final class TentacleCertificate {
  /** The certificate file name inside the directory given to {@link #loadOrCreate}. */
  public static final String CERT_FILE = "certificate.pem";

  /** The private key file name inside the directory given to {@link #loadOrCreate}. */
  public static final String KEY_FILE = "private-key.pem";

  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  private final X509Certificate certificate;
  private final PrivateKey privateKey;
  private final String thumbprint;

  private TentacleCertificate(X509Certificate certificate, PrivateKey privateKey) {
    this.certificate = Objects.requireNonNull(certificate, "certificate");
    this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
    this.thumbprint = thumbprintOf(certificate);
  }

  /** A new ECDSA P-256 certificate that lives in memory only (tests, short-lived hosts). */
  public static TentacleCertificate generate(String commonName) {
    try {
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
      kpg.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      KeyPair kp = kpg.generateKeyPair();
      X500Name name = new X500Name("CN=" + commonName.replaceAll("[,=+<>#;\"\\\\]", "_"));
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              name,
              new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE),
              Date.from(now.minus(Duration.ofDays(1))),
              Date.from(now.plus(Duration.ofDays(365L * 100))),
              name,
              kp.getPublic());
      X509Certificate cert =
          new JcaX509CertificateConverter()
              .getCertificate(
                  b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
      return new TentacleCertificate(cert, kp.getPrivate());
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new WorkerPoolsException("cannot generate an ECDSA P-256 certificate: " + e, e);
    }
  }

  /**
   * Loads the certificate from {@code dir}, or creates one there (and the directory) if there is
   * none. The key file is created readable by its owner only.
   *
   * @throws ConfigurationException if only one of the two files exists, or they cannot be read
   */
  public static TentacleCertificate loadOrCreate(Path dir, String commonName) {
    Path certFile = dir.resolve(CERT_FILE);
    Path keyFile = dir.resolve(KEY_FILE);
    boolean hasCert = Files.exists(certFile);
    boolean hasKey = Files.exists(keyFile);
    if (hasCert && hasKey) {
      return load(certFile, keyFile);
    }
    if (hasCert || hasKey) {
      throw new ConfigurationException(
          "certificate",
          "found "
              + (hasCert ? certFile : keyFile)
              + " but not "
              + (hasCert ? keyFile : certFile)
              + "; restore the missing file, or delete both to create a new identity (peers must"
              + " then trust the new thumbprint)");
    }
    TentacleCertificate c = generate(commonName);
    try {
      io.workerpools.tentacle.internal.OwnerOnly.createDirectories(dir);
      writeOwnerOnly(keyFile, pem(new JcaPKCS8Generator(c.privateKey, null)));
      Files.writeString(certFile, pem(c.certificate), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new ConfigurationException(
          "certificate", "cannot write the certificate to " + dir + ": " + e.getMessage(), e);
    }
    return c;
  }

  private static void writeOwnerOnly(Path file, String content) throws IOException {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
      file.toFile().setReadable(false, false);
      file.toFile().setReadable(true, true);
      file.toFile().setWritable(false, false);
      file.toFile().setWritable(true, true);
    }
    try (Writer w =
        Files.newBufferedWriter(file, StandardCharsets.US_ASCII, StandardOpenOption.WRITE)) {
      w.write(content);
    }
  }

  private static TentacleCertificate load(Path certFile, Path keyFile) {
    try (Reader cr = Files.newBufferedReader(certFile, StandardCharsets.US_ASCII);
        PEMParser cp = new PEMParser(cr);
        Reader kr = Files.newBufferedReader(keyFile, StandardCharsets.US_ASCII);
        PEMParser kp = new PEMParser(kr)) {
      Object c = cp.readObject();
      Object k = kp.readObject();
      if (!(c instanceof X509CertificateHolder) || !(k instanceof PrivateKeyInfo)) {
        throw new ConfigurationException(
            "certificate",
            certFile + " must hold a PEM certificate and " + keyFile + " a PEM PKCS#8 private key");
      }
      X509Certificate cert =
          new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) c);
      PrivateKey key = new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) k);
      return new TentacleCertificate(cert, key);
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigurationException(
          "certificate", "cannot read " + certFile + " / " + keyFile + ": " + e.getMessage(), e);
    }
  }

  private static String pem(Object o) throws IOException {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      w.writeObject(o);
    }
    return sw.toString();
  }

  /** SHA-256 over the DER encoding, upper-case hex. */
  public static String thumbprintOf(X509Certificate certificate) {
    try {
      return HexFormat.of()
          .withUpperCase()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new WorkerPoolsException("cannot compute a certificate thumbprint: " + e, e);
    }
  }

  /**
   * A thumbprint in canonical form (upper case, no separators), or a {@link ConfigurationException}
   * if it is not 64 hex digits.
   */
  public static String normalizeThumbprint(String field, String thumbprint) {
    String t =
        thumbprint == null ? "" : thumbprint.replace(":", "").trim().toUpperCase(Locale.ROOT);
    if (!t.matches("[0-9A-F]{64}")) {
      throw new ConfigurationException(
          field,
          "'"
              + thumbprint
              + "' is not a SHA-256 thumbprint: expected 64 hex digits (an agent's 'show-thumbprint'"
              + " command prints its own)");
    }
    return t;
  }

  /** The certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** The private key (never logged, never sent). */
  public PrivateKey privateKey() {
    return privateKey;
  }

  /** SHA-256 over the DER certificate, upper-case hex. */
  public String thumbprint() {
    return thumbprint;
  }

  @Override
  public String toString() {
    return "TentacleCertificate[" + thumbprint + "]";
  }
}
