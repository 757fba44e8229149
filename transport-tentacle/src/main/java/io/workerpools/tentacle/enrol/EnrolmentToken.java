package io.workerpools.tentacle.enrol;

import io.workerpools.ConfigurationException;
import io.workerpools.model.PoolId;
import io.workerpools.tentacle.TentacleCertificate;
import java.time.Instant;
import java.util.Objects;

/**
 * A one-time enrolment token as issued: what the host hands to one agent (by file, stdin or
 * environment; never argv, never a log). Its text, {@code WPE1.<id>.<secret>.<host thumbprint>},
 * carries the host's certificate thumbprint, so the agent pins the host from its very first
 * connection (as kubeadm's {@code --discovery-token-ca-cert-hash} pins the cluster CA), and the
 * secret, 32 random bytes, which the host keeps only as a SHA-256 hash. The {@code id} is not
 * secret (it names the token in logs). {@link #toString()} never shows the secret.
 *
 * @param id the token's public identifier (16 hex digits)
 * @param pool the pool the enrolled worker joins
 * @param expiresAt when the token stops being accepted
 * @param hostThumbprint the thumbprint of the host's certificate the agent must see
 * @param text the whole token: secret; hand it over, never log it
 */
public record EnrolmentToken(
    String id, PoolId pool, Instant expiresAt, String hostThumbprint, String text) {
  /** The token text's prefix and format version. */
  public static final String PREFIX = "WPE1";

  /** Validates. */
  public EnrolmentToken {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(expiresAt, "expiresAt");
    Objects.requireNonNull(hostThumbprint, "hostThumbprint");
    Objects.requireNonNull(text, "text");
  }

  /** The parts of a token text, as the agent reads it. */
  public record Parts(String id, String secret, String hostThumbprint) {
    /** Never shows the secret. */
    @Override
    public String toString() {
      return "EnrolmentToken.Parts[id=" + id + ", hostThumbprint=" + hostThumbprint + "]";
    }
  }

  /**
   * Parses a token text ({@code WPE1.<id>.<secret>.<host thumbprint>}; surrounding white space, as
   * in a file, is ignored). The message of a failure never repeats the text.
   *
   * @throws ConfigurationException (field {@code token}) saying which part is wrong
   */
  public static Parts parse(String text) {
    String t = text == null ? "" : text.strip();
    if (t.length() > 256) {
      throw new ConfigurationException("token", "the enrolment token is too long to be one");
    }
    String[] p = t.split("\\.", -1);
    if (p.length != 4 || !p[0].equals(PREFIX)) {
      throw new ConfigurationException(
          "token",
          "the enrolment token is not in the form "
              + PREFIX
              + ".<id>.<secret>.<host thumbprint>: ask the host for a new one");
    }
    if (!p[1].matches("[0-9a-f]{16}")) {
      throw new ConfigurationException("token", "the enrolment token's id is malformed");
    }
    if (!p[2].matches("[A-Za-z0-9_-]{43}")) {
      throw new ConfigurationException("token", "the enrolment token's secret is malformed");
    }
    String host;
    try {
      host = TentacleCertificate.normalizeThumbprint("token", p[3]);
    } catch (ConfigurationException e) {
      throw new ConfigurationException(
          "token", "the enrolment token's host thumbprint is not 64 hex digits");
    }
    return new Parts(p[1], p[2], host);
  }

  /** Never shows the secret. */
  @Override
  public String toString() {
    return "EnrolmentToken[id="
        + id
        + ", pool="
        + pool
        + ", expiresAt="
        + expiresAt
        + ", hostThumbprint="
        + hostThumbprint
        + "]";
  }
}
