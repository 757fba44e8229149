package io.workerpools.tentacle.enrol;

import io.workerpools.ConfigurationException;
import io.workerpools.model.PoolId;
import io.workerpools.tentacle.TentacleCertificate;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * The host's enrolment token issuer: {@link #issue} makes a one-time token bound to a pool,
 * short-lived (default {@link #DEFAULT_TTL}, at most {@link #MAX_TTL}); {@link #redeem} checks one
 * an agent presented and uses it up. Only a SHA-256 hash of each secret is stored ({@link
 * EnrolmentTokenStore}); secrets are compared in constant time; no token is ever logged.
 *
 * <p>A refusal says why only to a peer that proved it knows the secret (expired, already used, for
 * another pool); an unknown id and a wrong secret get the same answer, so the enrolment port tells
 * a stranger nothing ({@link EnrolmentListener} also bounds how often it answers). A token used by
 * an agent may be presented again by the same agent certificate (a retry after a lost reply) and is
 * accepted again for it; any other certificate is refused: one token enrols one agent.
 *
 * <p>Thread-safe.
 */
public final class EnrolmentTokens {
  /** The default lifetime of a token: one hour. */
  public static final Duration DEFAULT_TTL = Duration.ofHours(1);

  /** The longest lifetime allowed: one day. */
  public static final Duration MAX_TTL = Duration.ofDays(1);

  /** The answer to an unknown id or a wrong secret (the same for both). */
  static final String NOT_VALID =
      "the enrolment token is not valid (unknown, or not the secret that was issued); ask the"
          + " host for a new one";

  private static final byte[] DUMMY_HASH = new byte[32];

  private final String hostThumbprint;
  private final EnrolmentTokenStore store;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  private EnrolmentTokens(String hostThumbprint, EnrolmentTokenStore store, Clock clock) {
    this.hostThumbprint = TentacleCertificate.normalizeThumbprint("hostThumbprint", hostThumbprint);
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * An issuer for the host whose certificate has {@code hostThumbprint}, keeping tokens in {@code
   * store} and telling time by {@code clock}.
   */
  public static EnrolmentTokens create(
      String hostThumbprint, EnrolmentTokenStore store, Clock clock) {
    return new EnrolmentTokens(hostThumbprint, store, clock);
  }

  /** An issuer with an in-memory store and the system clock (one host node). */
  public static EnrolmentTokens inMemory(String hostThumbprint) {
    return create(hostThumbprint, new EnrolmentTokenStore.InMemory(), Clock.systemUTC());
  }

  /** Issues a token for {@code pool} that lives {@link #DEFAULT_TTL}. */
  public EnrolmentToken issue(PoolId pool) {
    return issue(pool, DEFAULT_TTL);
  }

  /**
   * Issues a token for {@code pool} that lives {@code ttl}.
   *
   * @throws ConfigurationException (field {@code ttl}) unless 1 s &lt;= ttl &lt;= {@link #MAX_TTL}
   */
  public EnrolmentToken issue(PoolId pool, Duration ttl) {
    Objects.requireNonNull(pool, "pool");
    if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(MAX_TTL) > 0) {
      throw new ConfigurationException(
          "ttl", "must be 1 s to " + MAX_TTL.toHours() + " h (short-lived) but was " + ttl);
    }
    byte[] idBytes = new byte[8];
    byte[] secretBytes = new byte[32];
    random.nextBytes(idBytes);
    random.nextBytes(secretBytes);
    String id = HexFormat.of().formatHex(idBytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
    Instant expires = clock.instant().plus(ttl);
    store.removeExpired(clock.instant());
    store.add(
        new EnrolmentTokenStore.Entry(
            id, hash(secret), pool, expires, Optional.empty(), Optional.empty()));
    String text = EnrolmentToken.PREFIX + "." + id + "." + secret + "." + hostThumbprint;
    return new EnrolmentToken(id, pool, expires, hostThumbprint, text);
  }

  /** The outcome of {@link #redeem}: accepted into a pool, or refused with a reason. */
  public sealed interface Redemption {
    /** Accepted: enrol the agent into {@code pool}. */
    record Accepted(String tokenId, PoolId pool) implements Redemption {}

    /**
     * Refused. {@code proven}: the peer knew the secret (the reason names the token); otherwise the
     * reason is {@link EnrolmentTokens#NOT_VALID}, whatever went wrong.
     */
    record Refused(String reason, boolean proven) implements Redemption {}
  }

  /**
   * Checks a presented token and uses it up for {@code agentThumbprint}.
   *
   * @param expectedPool the pool the agent asked to join, if it named one: a token for another pool
   *     is refused
   */
  public Redemption redeem(
      String id, String secret, Optional<PoolId> expectedPool, String agentThumbprint) {
    Optional<EnrolmentTokenStore.Entry> found = store.find(id);
    byte[] presented = hash(secret);
    // Compared even for an unknown id, so the answer's timing says nothing about the id.
    boolean matches =
        MessageDigest.isEqual(
            presented, found.map(EnrolmentTokenStore.Entry::secretHash).orElse(DUMMY_HASH));
    if (found.isEmpty() || !matches) {
      return new Redemption.Refused(NOT_VALID, false);
    }
    EnrolmentTokenStore.Entry e = found.get();
    Instant now = clock.instant();
    if (expectedPool.isPresent() && !expectedPool.get().equals(e.pool())) {
      return new Redemption.Refused(
          "the enrolment token "
              + id
              + " is for pool '"
              + e.pool().value()
              + "', not '"
              + expectedPool.get().value()
              + "'; ask for a token for that pool",
          true);
    }
    if (e.usedBy().isPresent() && e.usedBy().get().equals(agentThumbprint)) {
      return new Redemption.Accepted(id, e.pool()); // the same agent retrying
    }
    if (e.usedBy().isPresent()) {
      return used(e);
    }
    if (!now.isBefore(e.expiresAt())) {
      return new Redemption.Refused(
          "the enrolment token " + id + " expired at " + e.expiresAt() + "; issue a new one", true);
    }
    if (!store.markUsed(id, agentThumbprint, now)) {
      return store
          .find(id)
          .filter(x -> x.usedBy().isPresent())
          .map(this::used)
          .orElse(new Redemption.Refused(NOT_VALID, false));
    }
    return new Redemption.Accepted(id, e.pool());
  }

  private Redemption.Refused used(EnrolmentTokenStore.Entry e) {
    return new Redemption.Refused(
        "the enrolment token "
            + e.id()
            + " was already used"
            + e.usedAt().map(t -> " at " + t).orElse("")
            + " by another agent; a token enrols one agent: issue a new one",
        true);
  }

  static byte[] hash(String secret) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }
}
