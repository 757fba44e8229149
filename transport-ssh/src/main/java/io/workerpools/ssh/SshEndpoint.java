package io.workerpools.ssh;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Endpoint;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;

/**
 * An SSH worker's endpoint, parsed and validated. The generic form is
 *
 * <pre>{@code
 * Endpoint.of("ssh", "host:port", Map.of(
 *     "user", "deploy",
 *     "knownHosts", "/etc/workerpools/known_hosts",   // or "hostKey": "SHA256:..." / "ssh-ed25519 AAAA..."
 *     "credentials", "deploy-key"))                     // an id for the host's SshCredentialProvider
 * }</pre>
 *
 * <p>The port defaults to 22; an IPv6 address is written {@code [::1]:2222}. Exactly one of {@value
 * #KNOWN_HOSTS} and {@value #HOST_KEY} must be given: the host key is always verified. {@value
 * #HOST_KEY_POLICY} {@code =} {@value #INSECURE_ACCEPT_NEW} trusts a host's key on first use and
 * records it in the known-hosts file (a changed key is still refused); it is off unless asked for
 * by that name.
 *
 * @param host the host name or address
 * @param port the TCP port
 * @param user the login user
 * @param credentialsId the id handed to the {@link SshCredentialProvider}
 * @param knownHosts a known-hosts file (OpenSSH format) to verify the host key against
 * @param pinnedFingerprint the SHA-256 fingerprint ({@code SHA256:...}) the host key must have
 * @param acceptNewHostKeys trust on first use (needs {@code knownHosts}); insecure, explicit only
 * @param maxChannels this worker's limit on concurrent channels, if it differs from the transport's
 */
public record SshEndpoint(
    String host,
    int port,
    String user,
    String credentialsId,
    Optional<Path> knownHosts,
    Optional<String> pinnedFingerprint,
    boolean acceptNewHostKeys,
    OptionalInt maxChannels) {

  /** The endpoint kind SSH workers use. */
  public static final String KIND = "ssh";

  /** Property: the login user (required). */
  public static final String USER = "user";

  /** Property: the credentials id for the {@link SshCredentialProvider} (required). */
  public static final String CREDENTIALS = "credentials";

  /** Property: path of an OpenSSH known-hosts file to verify the host key against. */
  public static final String KNOWN_HOSTS = "knownHosts";

  /** Property: the pinned host key, as {@code SHA256:<base64>} or a public key line. */
  public static final String HOST_KEY = "hostKey";

  /** Property: {@value #STRICT} (the default) or {@value #INSECURE_ACCEPT_NEW}. */
  public static final String HOST_KEY_POLICY = "hostKeyPolicy";

  /** Property: this worker's limit on concurrent channels (the server's {@code MaxSessions}). */
  public static final String MAX_CHANNELS = "maxChannels";

  /** Host key policy: only known or pinned keys are accepted. The default. */
  public static final String STRICT = "strict";

  /**
   * Host key policy: trust a host key never seen before and add it to the known-hosts file (trust
   * on first use). Vulnerable to a man-in-the-middle on the first connection; a changed key is
   * still refused.
   */
  public static final String INSECURE_ACCEPT_NEW = "insecure-accept-new";

  private static final Set<String> KNOWN_PROPERTIES =
      Set.of(USER, CREDENTIALS, KNOWN_HOSTS, HOST_KEY, HOST_KEY_POLICY, MAX_CHANNELS);
  private static final Pattern FINGERPRINT = Pattern.compile("SHA256:[A-Za-z0-9+/]{43}");
  private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9._][A-Za-z0-9._@-]*");

  public SshEndpoint {
    if (host == null || host.isBlank()) {
      throw new ConfigurationException("endpoint.address", "the host must not be empty");
    }
    if (port < 1 || port > 65535) {
      throw new ConfigurationException(
          "endpoint.address", "the port must be between 1 and 65535 but was " + port);
    }
    if (user == null || !USER_NAME.matcher(user).matches()) {
      throw new ConfigurationException(
          "endpoint.properties." + USER,
          "'" + user + "' is not a valid login name (letters, digits, '.', '_', '-', '@')");
    }
    if (credentialsId == null || credentialsId.isBlank()) {
      throw new ConfigurationException(
          "endpoint.properties." + CREDENTIALS,
          "must name the credentials (an id your SshCredentialProvider knows)");
    }
    knownHosts = knownHosts == null ? Optional.empty() : knownHosts;
    pinnedFingerprint = pinnedFingerprint == null ? Optional.empty() : pinnedFingerprint;
    maxChannels = maxChannels == null ? OptionalInt.empty() : maxChannels;
    if (knownHosts.isPresent() == pinnedFingerprint.isPresent()) {
      throw new ConfigurationException(
          "endpoint.properties." + KNOWN_HOSTS,
          "give exactly one of '"
              + KNOWN_HOSTS
              + "' (a known-hosts file) or '"
              + HOST_KEY
              + "' (the pinned key or its SHA256 fingerprint): the host key is always verified");
    }
    pinnedFingerprint.ifPresent(
        f -> {
          if (!FINGERPRINT.matcher(f).matches()) {
            throw new ConfigurationException(
                "endpoint.properties." + HOST_KEY,
                "'"
                    + f
                    + "' is not a SHA-256 fingerprint (SHA256: followed by 43 base64 characters)");
          }
        });
    if (acceptNewHostKeys && knownHosts.isEmpty()) {
      throw new ConfigurationException(
          "endpoint.properties." + HOST_KEY_POLICY,
          INSECURE_ACCEPT_NEW + " needs '" + KNOWN_HOSTS + "' (the file new keys are written to)");
    }
    if (maxChannels.isPresent() && maxChannels.getAsInt() < 2) {
      throw new ConfigurationException(
          "endpoint.properties." + MAX_CHANNELS,
          "must be at least 2 (one channel is kept spare for cancellation) but was "
              + maxChannels.getAsInt());
    }
  }

  /**
   * Parses and validates a generic endpoint of kind {@value #KIND}.
   *
   * @throws ConfigurationException naming the property that is wrong and what is allowed
   */
  public static SshEndpoint parse(Endpoint endpoint) {
    Objects.requireNonNull(endpoint, "endpoint");
    if (!KIND.equals(endpoint.kind())) {
      throw new ConfigurationException(
          "endpoint.kind",
          "'" + endpoint.kind() + "' is not an SSH endpoint (kind '" + KIND + "')");
    }
    Map<String, String> p = endpoint.properties();
    for (String key : p.keySet()) {
      if (!KNOWN_PROPERTIES.contains(key)) {
        throw new ConfigurationException(
            "endpoint.properties." + key,
            "unknown SSH endpoint property; known: " + String.join(", ", KNOWN_PROPERTIES));
      }
    }
    String address = endpoint.address().trim();
    String host;
    int port = 22;
    if (address.startsWith("[")) {
      int close = address.indexOf(']');
      if (close < 0) {
        throw new ConfigurationException(
            "endpoint.address", "'" + address + "': missing ']' after an IPv6 address");
      }
      host = address.substring(1, close);
      String rest = address.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw new ConfigurationException(
              "endpoint.address", "'" + address + "': expected ':port' after ']'");
        }
        port = parsePort(address, rest.substring(1));
      }
    } else {
      int colon = address.lastIndexOf(':');
      if (colon >= 0 && address.indexOf(':') != colon) {
        throw new ConfigurationException(
            "endpoint.address", "'" + address + "': write an IPv6 address as [addr]:port");
      }
      host = colon < 0 ? address : address.substring(0, colon);
      if (colon >= 0) {
        port = parsePort(address, address.substring(colon + 1));
      }
    }
    Optional<Path> knownHosts =
        Optional.ofNullable(p.get(KNOWN_HOSTS))
            .map(
                s -> {
                  try {
                    return Path.of(s);
                  } catch (InvalidPathException e) {
                    throw new ConfigurationException(
                        "endpoint.properties." + KNOWN_HOSTS, "'" + s + "' is not a valid path", e);
                  }
                });
    Optional<String> pinned = Optional.ofNullable(p.get(HOST_KEY)).map(SshEndpoint::fingerprintOf);
    String policy = p.getOrDefault(HOST_KEY_POLICY, STRICT);
    boolean acceptNew;
    if (STRICT.equals(policy)) {
      acceptNew = false;
    } else if (INSECURE_ACCEPT_NEW.equals(policy)) {
      acceptNew = true;
    } else {
      throw new ConfigurationException(
          "endpoint.properties." + HOST_KEY_POLICY,
          "'"
              + policy
              + "' is not a policy; use '"
              + STRICT
              + "' or '"
              + INSECURE_ACCEPT_NEW
              + "'");
    }
    OptionalInt max = OptionalInt.empty();
    if (p.containsKey(MAX_CHANNELS)) {
      try {
        max = OptionalInt.of(Integer.parseInt(p.get(MAX_CHANNELS).trim()));
      } catch (NumberFormatException e) {
        throw new ConfigurationException(
            "endpoint.properties." + MAX_CHANNELS,
            "'" + p.get(MAX_CHANNELS) + "' is not a number",
            e);
      }
    }
    return new SshEndpoint(
        host, port, p.get(USER), p.get(CREDENTIALS), knownHosts, pinned, acceptNew, max);
  }

  /** This endpoint in its generic form. */
  public Endpoint toEndpoint() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put(USER, user);
    p.put(CREDENTIALS, credentialsId);
    knownHosts.ifPresent(k -> p.put(KNOWN_HOSTS, k.toString()));
    pinnedFingerprint.ifPresent(f -> p.put(HOST_KEY, f));
    if (acceptNewHostKeys) {
      p.put(HOST_KEY_POLICY, INSECURE_ACCEPT_NEW);
    }
    maxChannels.ifPresent(m -> p.put(MAX_CHANNELS, Integer.toString(m)));
    return Endpoint.of(KIND, hostAndPort(), p);
  }

  /** {@code host:port}, with brackets around an IPv6 address. */
  public String hostAndPort() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /**
   * The SHA-256 fingerprint of a pinned host key given either as a fingerprint or as an OpenSSH
   * public key line ({@code ssh-ed25519 AAAA... comment}).
   */
  static String fingerprintOf(String hostKey) {
    String v = hostKey.trim();
    if (v.regionMatches(true, 0, "SHA256:", 0, 7)) {
      return "SHA256:" + v.substring(7);
    }
    try {
      PublicKeyEntry entry = PublicKeyEntry.parsePublicKeyEntry(v);
      PublicKey key = entry.resolvePublicKey(null, Map.of(), PublicKeyEntryResolver.FAILING);
      return KeyUtils.getFingerPrint(key);
    } catch (Exception e) {
      throw new ConfigurationException(
          "endpoint.properties." + HOST_KEY,
          "not a SHA256 fingerprint nor a public key line ('ssh-ed25519 AAAA...'): "
              + e.getMessage(),
          e);
    }
  }

  private static int parsePort(String address, String port) {
    try {
      return Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new ConfigurationException(
          "endpoint.address",
          "'" + address + "': the port '" + port + "' is not a number (write host:port)",
          e);
    }
  }
}
