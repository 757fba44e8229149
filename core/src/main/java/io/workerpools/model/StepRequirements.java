package io.workerpools.model;

import io.workerpools.ConfigurationException;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a step needs from a worker. Pool choice, first match wins: {@link #pool()} if set; else
 * {@link #targetDefaultPool()} (the default pool of the target the step runs on behalf of, for
 * example a cloud region) if set; else the infrastructure's default pool.
 *
 * @param pool the pool the step names, directly or through a variable the host resolved
 * @param targetDefaultPool the default pool of the step's target, if that target has one
 * @param syntax the script syntax the worker must run
 * @param affinityKey keeps steps with the same key (one deployment, one package) on one worker
 *     while it stays eligible
 * @param affinityLeaseCap with an affinity key: the most leases the affine worker may hold before
 *     the key is moved to a less loaded worker (Octopus' {@code WorkerLeaseCap})
 * @param container whether the step runs in an execution container, so that only a worker whose
 *     health details report a reachable container engine may take it (set by {@code Step} when its
 *     script names a container)
 */
public record StepRequirements(
    Optional<PoolId> pool,
    Optional<PoolId> targetDefaultPool,
    ScriptSyntax syntax,
    Optional<String> affinityKey,
    OptionalInt affinityLeaseCap,
    boolean container) {

  public StepRequirements {
    pool = pool == null ? Optional.empty() : pool;
    targetDefaultPool = targetDefaultPool == null ? Optional.empty() : targetDefaultPool;
    Objects.requireNonNull(syntax, "syntax");
    affinityKey = affinityKey == null ? Optional.empty() : affinityKey.filter(k -> !k.isEmpty());
    affinityLeaseCap = affinityLeaseCap == null ? OptionalInt.empty() : affinityLeaseCap;
    if (affinityLeaseCap.isPresent() && affinityLeaseCap.getAsInt() < 1) {
      throw new ConfigurationException(
          "affinityLeaseCap", "must be at least 1 but was " + affinityLeaseCap.getAsInt());
    }
  }

  /** A bash step that names no pool: it goes to the default pool. */
  public static StepRequirements anyPool() {
    return builder().build();
  }

  /** A bash step in the given pool. */
  public static StepRequirements inPool(String poolId) {
    return builder().pool(poolId).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A copy that needs (or does not need) a container engine. */
  public StepRequirements withContainer(boolean needsContainer) {
    return new StepRequirements(
        pool, targetDefaultPool, syntax, affinityKey, affinityLeaseCap, needsContainer);
  }

  /** Builds {@link StepRequirements}. Defaults: no pool (the default pool), bash, no affinity. */
  public static final class Builder {
    private PoolId pool;
    private PoolId targetDefaultPool;
    private ScriptSyntax syntax = ScriptSyntax.BASH;
    private String affinityKey;
    private OptionalInt affinityLeaseCap = OptionalInt.empty();
    private boolean container;

    private Builder() {}

    public Builder pool(String poolId) {
      this.pool = poolId == null ? null : PoolId.of(poolId);
      return this;
    }

    public Builder pool(PoolId poolId) {
      this.pool = poolId;
      return this;
    }

    public Builder targetDefaultPool(PoolId poolId) {
      this.targetDefaultPool = poolId;
      return this;
    }

    public Builder syntax(ScriptSyntax syntax) {
      this.syntax = syntax;
      return this;
    }

    public Builder affinityKey(String key) {
      this.affinityKey = key;
      return this;
    }

    public Builder affinityLeaseCap(int cap) {
      this.affinityLeaseCap = OptionalInt.of(cap);
      return this;
    }

    /** The step runs in an execution container: only workers with a container engine take it. */
    public Builder container(boolean needsContainer) {
      this.container = needsContainer;
      return this;
    }

    public StepRequirements build() {
      return new StepRequirements(
          Optional.ofNullable(pool),
          Optional.ofNullable(targetDefaultPool),
          syntax,
          Optional.ofNullable(affinityKey),
          affinityLeaseCap,
          container);
    }
  }
}
