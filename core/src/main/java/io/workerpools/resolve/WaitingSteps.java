package io.workerpools.resolve;

import io.workerpools.ConfigurationException;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * "Why is my step waiting?": a snapshot of the steps waiting for a worker in one resolver ({@link
 * WorkerResolver#waitingSteps}), taken at one instant under the resolver's lock, so every figure in
 * it agrees with every other.
 *
 * <p>Steps that need the same thing (the same pool and script syntax) share one {@link Group}: its
 * workers' pass-over reasons are computed once per group per snapshot, not once per step, so a
 * snapshot of 10,000 waiting steps costs one walk of the queue plus one walk of each pool they wait
 * for. The lists are bounded by the {@link Query}; the counts beside them are always complete.
 *
 * <p>A snapshot is an immutable value; it is safe to keep and to hand to another thread.
 *
 * @param takenAt when it was taken (the resolver's {@link io.workerpools.time.TimeSource})
 * @param total every step waiting in this resolver now, whatever the query's pool filter
 * @param matched the waiting steps the query's pool filter selects (all of them without a filter)
 * @param steps the first {@link Query#maxSteps()} of the matched steps, in queue order
 * @param groups the groups of the matched steps, in the order their first step is queued
 */
public record WaitingSteps(
    Instant takenAt, int total, int matched, List<Step> steps, List<Group> groups) {

  public WaitingSteps {
    Objects.requireNonNull(takenAt, "takenAt");
    steps = List.copyOf(steps);
    groups = List.copyOf(groups);
  }

  /** Matched steps left out of {@link #steps} by {@link Query#maxSteps()}. */
  public int omitted() {
    return matched - steps.size();
  }

  /**
   * One waiting step.
   *
   * @param stepId the id the step was queued with
   * @param position its place in the resolver's queue, 1 for the first (waiters are served in this
   *     order when what they need is free; one that cannot be served does not hold up those behind)
   * @param positionInGroup its place among the steps of its {@link Group}: how many of those that
   *     need the same thing are ahead of it, plus one
   * @param requirements what it asked for
   * @param poolChoice how its pool ({@link Group#pool()}) was chosen
   * @param waitingSince when it started waiting (wall clock)
   * @param waited how long it has waited (monotonic clock)
   * @param group what it waits for, why, and what would unblock it (shared with the other steps of
   *     the group)
   */
  public record Step(
      String stepId,
      int position,
      int positionInGroup,
      StepRequirements requirements,
      PoolChoice poolChoice,
      Instant waitingSince,
      Duration waited,
      Group group) {
    public Step {
      Objects.requireNonNull(stepId, "stepId");
      Objects.requireNonNull(requirements, "requirements");
      Objects.requireNonNull(poolChoice, "poolChoice");
      Objects.requireNonNull(waitingSince, "waitingSince");
      Objects.requireNonNull(waited, "waited");
      Objects.requireNonNull(group, "group");
    }
  }

  /**
   * The steps waiting for the same pool and script syntax (in a container or not), and why that
   * pool cannot take them now.
   *
   * @param pool the pool they resolved to
   * @param syntax the script syntax they need
   * @param container whether they run in an execution container (only workers with a reachable
   *     container engine take them)
   * @param defaultPool whether {@code pool} is the default pool
   * @param waiting how many matched steps are in this group
   * @param blocked the kind of blockage; empty when the group is servable now (a worker is
   *     eligible, or rule 1 gives the built-in worker): its steps are about to be served, unless
   *     another step or another node sharing the store takes that worker first
   * @param members the workers configured in the pool, eligible or not
   * @param eligible how many of them could take one of these steps now
   * @param passedOverByReason how many members are passed over, by reason (every member counted;
   *     only reasons that apply appear)
   * @param passedOver the first {@link Query#maxPassedOver()} members passed over and why, exactly
   *     as {@link Rules#explain} says
   * @param unblockedBy what would unblock these steps, the changes that come by themselves first
   */
  public record Group(
      PoolId pool,
      ScriptSyntax syntax,
      boolean container,
      boolean defaultPool,
      int waiting,
      Optional<Resolution.Kind> blocked,
      int members,
      int eligible,
      Map<PassedOver.Reason, Integer> passedOverByReason,
      List<PassedOver> passedOver,
      List<Unblock> unblockedBy) {
    public Group {
      Objects.requireNonNull(pool, "pool");
      Objects.requireNonNull(syntax, "syntax");
      Objects.requireNonNull(blocked, "blocked");
      passedOverByReason = Map.copyOf(passedOverByReason);
      passedOver = List.copyOf(passedOver);
      unblockedBy = List.copyOf(unblockedBy);
    }

    /** Members passed over for any reason (all counted, listed or not). */
    public int passedOverTotal() {
      int n = 0;
      for (int c : passedOverByReason.values()) {
        n += c;
      }
      return n;
    }
  }

  /**
   * One change that would unblock a group's steps.
   *
   * @param kind the kind of change
   * @param pool the pool it concerns
   * @param workers how many of the pool's workers it concerns (0 where it is about a new worker,
   *     the pool itself or the built-in worker)
   * @param description in words, for a person ("one of 3 workers of pool 'linux' passes a health
   *     check")
   */
  public record Unblock(Kind kind, PoolId pool, int workers, String description) {
    public Unblock {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(pool, "pool");
      Objects.requireNonNull(description, "description");
    }

    /** The kinds of change that unblock a waiting step. */
    public enum Kind {
      /** A lease on a worker at its cap is released (comes by itself). */
      LEASE_RELEASED,
      /** A worker that is not healthy passes a health check (may come by itself). */
      WORKER_HEALTHY,
      /** A disabled worker is enabled. */
      WORKER_ENABLED,
      /** A draining worker stops draining. */
      DRAINING_STOPPED,
      /** A worker's health check finds a reachable container engine (for container steps). */
      CONTAINER_ENGINE_FOUND,
      /** A worker that runs the syntax is added to the pool. */
      WORKER_ADDED,
      /** The built-in worker is switched on (rule 1: the default pool is empty). */
      BUILT_IN_WORKER_ENABLED,
      /** The pool the step resolved to is created. */
      POOL_CREATED;

      /** Whether this change comes without anyone acting (a lease ends, a health check passes). */
      public boolean comesByItself() {
        return this == LEASE_RELEASED || this == WORKER_HEALTHY;
      }
    }
  }

  /**
   * What a snapshot shows. Build with {@link #builder()}; {@link #DEFAULT} shows up to {@value
   * #DEFAULT_MAX_STEPS} steps and {@value #DEFAULT_MAX_PASSED_OVER} workers passed over per group.
   *
   * @param maxSteps at most this many steps listed (the counts cover all)
   * @param maxPassedOver at most this many workers passed over listed per group (the counts by
   *     reason cover all)
   * @param pool only steps waiting for this pool, if set
   */
  public record Query(int maxSteps, int maxPassedOver, Optional<PoolId> pool) {
    public static final int DEFAULT_MAX_STEPS = 1_000;
    public static final int DEFAULT_MAX_PASSED_OVER = 20;

    /** The most steps or workers one snapshot may list. */
    public static final int LIMIT = 100_000;

    /** Up to 1,000 steps, 20 workers passed over per group, every pool. */
    public static final Query DEFAULT = builder().build();

    public Query {
      check("maxSteps", maxSteps);
      check("maxPassedOver", maxPassedOver);
      pool = pool == null ? Optional.empty() : pool;
    }

    private static void check(String field, int value) {
      if (value < 0 || value > LIMIT) {
        throw new ConfigurationException(
            field, "must be between 0 and " + LIMIT + " but was " + value);
      }
    }

    public static Builder builder() {
      return new Builder();
    }

    /** Builds a {@link Query}; each setter validates its value. */
    public static final class Builder {
      private int maxSteps = DEFAULT_MAX_STEPS;
      private int maxPassedOver = DEFAULT_MAX_PASSED_OVER;
      private PoolId pool;

      private Builder() {}

      /** At most this many steps listed, 0 to {@value Query#LIMIT} (default 1,000). */
      public Builder maxSteps(int n) {
        check("maxSteps", n);
        this.maxSteps = n;
        return this;
      }

      /** At most this many workers passed over listed per group, 0 to 100,000 (default 20). */
      public Builder maxPassedOver(int n) {
        check("maxPassedOver", n);
        this.maxPassedOver = n;
        return this;
      }

      /** Only steps waiting for this pool (null: every pool). */
      public Builder pool(PoolId pool) {
        this.pool = pool;
        return this;
      }

      public Query build() {
        return new Query(maxSteps, maxPassedOver, Optional.ofNullable(pool));
      }
    }
  }
}
