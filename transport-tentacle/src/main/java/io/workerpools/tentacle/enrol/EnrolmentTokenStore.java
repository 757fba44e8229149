package io.workerpools.tentacle.enrol;

import io.workerpools.model.PoolId;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a host keeps its enrolment tokens: only a hash of each secret, the pool, the expiry and,
 * once used, who used it. {@link InMemory} serves one host node; hosts with several nodes plug in
 * one on their shared database, so that a token issued on one node is redeemed on any and used at
 * most once across all ({@link #markUsed} is the one atomic compare-and-set that guarantees it).
 *
 * <p>Called by {@link EnrolmentTokens} from the caller's thread ({@code issue}) and from enrolment
 * handshake threads ({@code find}, {@code markUsed}); implementations are thread-safe, must not
 * block for long (each call is inside an enrolment's handshake deadline) and never log secrets or
 * hashes.
 */
public interface EnrolmentTokenStore {
  /**
   * One stored token.
   *
   * @param id the token's public id
   * @param secretHash SHA-256 of the token's secret (32 bytes); the secret itself is never stored
   * @param pool the pool it enrols into
   * @param expiresAt when it stops being accepted
   * @param usedBy the thumbprint of the agent that used it, if used
   * @param usedAt when it was used, if used
   */
  record Entry(
      String id,
      byte[] secretHash,
      PoolId pool,
      Instant expiresAt,
      Optional<String> usedBy,
      Optional<Instant> usedAt) {
    /** Validates and copies the hash. */
    public Entry {
      Objects.requireNonNull(id, "id");
      secretHash = Objects.requireNonNull(secretHash, "secretHash").clone();
      Objects.requireNonNull(pool, "pool");
      Objects.requireNonNull(expiresAt, "expiresAt");
      Objects.requireNonNull(usedBy, "usedBy");
      Objects.requireNonNull(usedAt, "usedAt");
    }

    /** A copy of the hash. */
    @Override
    public byte[] secretHash() {
      return secretHash.clone();
    }

    /** Never shows the hash. */
    @Override
    public String toString() {
      return "Entry[id="
          + id
          + ", pool="
          + pool
          + ", expiresAt="
          + expiresAt
          + ", usedBy="
          + usedBy
          + "]";
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Entry e
          && id.equals(e.id)
          && Arrays.equals(secretHash, e.secretHash)
          && pool.equals(e.pool)
          && expiresAt.equals(e.expiresAt)
          && usedBy.equals(e.usedBy)
          && usedAt.equals(e.usedAt);
    }

    @Override
    public int hashCode() {
      return id.hashCode();
    }
  }

  /** Stores a new, unused token. */
  void add(Entry entry);

  /** The token with this id, if stored. */
  Optional<Entry> find(String id);

  /**
   * Marks an unused token used by {@code agentThumbprint}, atomically.
   *
   * @return true if this call used it; false if it was used already or is not stored
   */
  boolean markUsed(String id, String agentThumbprint, Instant at);

  /** Forgets tokens that expired before {@code now}; returns how many. */
  int removeExpired(Instant now);

  /** Tokens in one JVM's memory: for a single host node, and for tests. */
  final class InMemory implements EnrolmentTokenStore {
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    @Override
    public void add(Entry entry) {
      if (entries.putIfAbsent(entry.id(), entry) != null) {
        throw new io.workerpools.WorkerPoolsException(
            "token id " + entry.id() + " is already stored");
      }
    }

    @Override
    public Optional<Entry> find(String id) {
      return Optional.ofNullable(entries.get(id));
    }

    @Override
    public boolean markUsed(String id, String agentThumbprint, Instant at) {
      boolean[] used = {false};
      entries.computeIfPresent(
          id,
          (k, e) -> {
            if (e.usedBy().isPresent()) {
              return e;
            }
            used[0] = true;
            return new Entry(
                e.id(),
                e.secretHash(),
                e.pool(),
                e.expiresAt(),
                Optional.of(agentThumbprint),
                Optional.of(at));
          });
      return used[0];
    }

    @Override
    public int removeExpired(Instant now) {
      int before = entries.size();
      entries.values().removeIf(e -> e.expiresAt().isBefore(now));
      return before - entries.size();
    }
  }
}
