package io.workerpools.ssh.internal;

import io.workerpools.ConfigurationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;

/**
 * OpenSSH known-hosts files, read strictly: a line that cannot be read is an error naming the file
 * and the line, never skipped, and a file that cannot be read is an error, never empty (a lenient
 * reader turns a broken file into "no keys known", which under trust-on-first-use accepts any key).
 * A key of a type this client does not support is skipped (it can never match).
 *
 * <p>Matching follows {@code sshd(8)}'s {@code SSH_KNOWN_HOSTS FILE FORMAT}: comma-separated
 * patterns with {@code *} and {@code ?}, a {@code !pattern} that matches excludes the line, hashed
 * names ({@code |1|salt|hash}, HMAC-SHA1), {@code [host]:port} for a port other than 22, markers
 * {@code @cert-authority} and {@code @revoked}. A {@code @revoked} line is matched against both
 * {@code host} and {@code [host]:port}: a revoked key stays revoked on every port.
 */
public final class KnownHosts {
  /** The largest known-hosts file read. */
  static final long MAX_FILE_BYTES = 16L << 20;

  private static final String HASH_MAGIC = "|1|";

  /** What a line is for. */
  public enum Marker {
    NONE,
    CERT_AUTHORITY,
    REVOKED
  }

  /** One line of a known-hosts file. */
  public record Entry(
      Path file, int line, Marker marker, String hosts, String keyType, PublicKey key) {
    /** {@code file:line}, for messages. */
    public String where() {
      return file + ":" + line;
    }
  }

  /** A file or line that cannot be used; the message names the file and the line. */
  public static final class Unusable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unusable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The entries of the files that concern one host, in file order. */
  public record ForHost(
      String hostEntryName, List<Entry> known, List<Entry> authorities, List<Entry> revoked) {
    /** The key types of the plain keys known for the host ({@code ssh-ed25519}, ...), in order. */
    public Set<String> knownTypes() {
      Set<String> types = new LinkedHashSet<>();
      known.forEach(e -> types.add(e.keyType()));
      return types;
    }

    /** The first revoked entry for this key, if any. */
    public Optional<Entry> revokedEntry(PublicKey key) {
      return revoked.stream().filter(e -> KeyUtils.compareKeys(e.key(), key)).findFirst();
    }
  }

  private KnownHosts() {}

  /**
   * Reads the files and keeps the lines that concern {@code host} on {@code port}.
   *
   * @param files the files to read, the user's first; a file that does not exist holds no keys
   * @throws Unusable if a file cannot be read or holds a line that is not a known-hosts line
   */
  public static ForHost forHost(List<Path> files, String host, int port) {
    String primary = hostEntryName(host, port);
    Set<String> revokedNames =
        Set.of(host.toLowerCase(Locale.ROOT), "[" + host.toLowerCase(Locale.ROOT) + "]:" + port);
    List<Entry> known = new ArrayList<>();
    List<Entry> authorities = new ArrayList<>();
    List<Entry> revoked = new ArrayList<>();
    for (Path f : files) {
      for (Entry e : read(f)) {
        switch (e.marker()) {
          case REVOKED -> {
            if (revokedNames.stream().anyMatch(n -> matches(e.hosts(), n))) {
              revoked.add(e);
            }
          }
          case CERT_AUTHORITY -> {
            if (matches(e.hosts(), primary)) {
              authorities.add(e);
            }
          }
          default -> {
            if (matches(e.hosts(), primary)) {
              known.add(e);
            }
          }
        }
      }
    }
    return new ForHost(primary, List.copyOf(known), List.copyOf(authorities), List.copyOf(revoked));
  }

  /**
   * The name a host is recorded under: {@code host}, or {@code [host]:port} if the port is not 22.
   */
  public static String hostEntryName(String host, int port) {
    String h = host.toLowerCase(Locale.ROOT);
    return port == 22 ? h : "[" + h + "]:" + port;
  }

  /** Every entry of one file; none if it does not exist. */
  static List<Entry> read(Path file) {
    List<String> lines;
    try {
      if (Files.isDirectory(file)) {
        throw new Unusable(
            "cannot read the known-hosts file " + file + ": it is a directory", null);
      }
      long size = Files.size(file);
      if (size > MAX_FILE_BYTES) {
        throw new Unusable(
            "the known-hosts file "
                + file
                + " is "
                + size
                + " bytes; at most "
                + MAX_FILE_BYTES
                + " are read",
            null);
      }
      // ISO-8859-1 maps every byte: a stray byte in a comment is not a reason to fail.
      lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new Unusable("cannot read the known-hosts file " + file + ": " + e, e);
    }
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Entry e = parse(file, i + 1, lines.get(i));
      if (e != null) {
        out.add(e);
      }
    }
    return out;
  }

  /** One line; null for a blank line, a comment or a key type this client does not support. */
  static Entry parse(Path file, int number, String raw) {
    String line = raw.strip();
    if (line.isEmpty() || line.startsWith("#")) {
      return null;
    }
    String[] f = line.split("[ \t]+", line.startsWith("@") ? 5 : 4);
    int i = 0;
    Marker marker = Marker.NONE;
    if (f[0].startsWith("@")) {
      marker =
          switch (f[0]) {
            case "@cert-authority" -> Marker.CERT_AUTHORITY;
            case "@revoked" -> Marker.REVOKED;
            default ->
                throw bad(
                    file,
                    number,
                    "unknown marker '" + f[0] + "' (only @cert-authority and @revoked exist)");
          };
      i = 1;
    }
    if (f.length < i + 3) {
      throw bad(
          file,
          number,
          "expected " + (i == 1 ? "marker, " : "") + "host patterns, key type and base64 key");
    }
    String hosts = f[i];
    String type = f[i + 1];
    String base64 = f[i + 2];
    if (hosts.startsWith(HASH_MAGIC)) {
      hashParts(file, number, hosts);
    }
    if (KeyUtils.getPublicKeyEntryDecoder(type) == null) {
      return null; // a type this client cannot use (it could not negotiate it either)
    }
    PublicKey key;
    try {
      Base64.getDecoder().decode(base64);
      key =
          PublicKeyEntry.parsePublicKeyEntry(type + " " + base64)
              .resolvePublicKey(null, Map.of(), PublicKeyEntryResolver.FAILING);
    } catch (Exception e) {
      throw bad(file, number, "the " + type + " key cannot be decoded (" + e.getMessage() + ")");
    }
    if (key == null) {
      throw bad(file, number, "the " + type + " key cannot be decoded");
    }
    String actual = KeyUtils.getKeyType(key);
    if (!type.equals(actual)) {
      throw bad(file, number, "the key is declared " + type + " but is " + actual);
    }
    return new Entry(file, number, marker, hosts, type, key);
  }

  private static Unusable bad(Path file, int line, String why) {
    return new Unusable(
        "the known-hosts file " + file + " line " + line + " is not a known-hosts line: " + why,
        null);
  }

  private static byte[][] hashParts(Path file, int line, String hosts) {
    String[] p = hosts.substring(HASH_MAGIC.length()).split("\\|", -1);
    try {
      if (p.length == 2) {
        byte[] salt = Base64.getDecoder().decode(p[0]);
        byte[] hash = Base64.getDecoder().decode(p[1]);
        if (salt.length == 20 && hash.length == 20) {
          return new byte[][] {salt, hash};
        }
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw bad(
        file, line, "a hashed host name must be |1|<base64 salt>|<base64 hash> of 20 bytes each");
  }

  /**
   * Whether a line's host field matches {@code name} (already lower case): a hashed name equal to
   * it, or a pattern list in which some pattern matches and no negated one does.
   */
  static boolean matches(String hosts, String name) {
    if (hosts.startsWith(HASH_MAGIC)) {
      byte[][] sh = hashParts(Path.of("?"), 0, hosts);
      try {
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(sh[0], "HmacSHA1"));
        return MessageDigest.isEqual(mac.doFinal(name.getBytes(StandardCharsets.UTF_8)), sh[1]);
      } catch (java.security.GeneralSecurityException e) {
        throw new ConfigurationException(
            "knownHosts", "cannot check a hashed entry: HMAC-SHA1 is not available", e);
      }
    }
    boolean matched = false;
    for (String p : hosts.split(",")) {
      boolean negated = p.startsWith("!");
      String pattern = (negated ? p.substring(1) : p).toLowerCase(Locale.ROOT);
      if (glob(pattern, name)) {
        if (negated) {
          return false;
        }
        matched = true;
      }
    }
    return matched;
  }

  /** {@code *} any run of characters, {@code ?} one character; everything else literal. */
  static boolean glob(String pattern, String s) {
    int p = 0;
    int i = 0;
    int star = -1;
    int mark = 0;
    while (i < s.length()) {
      if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == s.charAt(i))) {
        p++;
        i++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        mark = i;
      } else if (star >= 0) {
        p = star + 1;
        i = ++mark;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }
}
