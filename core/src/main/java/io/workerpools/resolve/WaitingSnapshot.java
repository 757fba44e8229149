package io.workerpools.resolve;

import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Takes a {@link WaitingSteps} snapshot: one walk of the wait queue that sorts waiters into groups
 * by (pool, syntax, container or not), then one walk of each group's pool, applying {@link Rules}
 * to each member once. Called with the resolver's lock held.
 */
final class WaitingSnapshot {
  private static final PassedOver.Reason[] REASONS = PassedOver.Reason.values();
  private static final ScriptSyntax[] SYNTAXES = ScriptSyntax.values();

  private WaitingSnapshot() {}

  /** A group being counted. */
  private static final class Acc {
    final PoolId pool;
    final ScriptSyntax syntax;
    final boolean container;
    int waiting;
    WaitingSteps.Group group;

    Acc(PoolId pool, ScriptSyntax syntax, boolean container) {
      this.pool = pool;
      this.syntax = syntax;
      this.container = container;
    }
  }

  static WaitingSteps take(ResolverView view, StepWaiters waiters, WaitingSteps.Query query) {
    TimeSource time = waiters.time();
    Instant takenAt = time.now();
    long nowNanos = time.nanoTime();
    PoolId only = query.pool().orElse(null);
    int maxSteps = query.maxSteps();
    Map<PoolId, Acc[]> byPool = new HashMap<>();
    List<Acc> groups = new ArrayList<>();
    // The queue's size bounds how many are listed (it may count waiters that just gave up).
    int room = Math.min(maxSteps, waiters.sizeLocked());
    List<StepWaiters.Waiter> listed = new ArrayList<>(room);
    List<Acc> listedGroup = new ArrayList<>(room);
    int[] positions = new int[room];
    int[] inGroup = new int[room];
    int[] total = new int[1];
    int[] matched = new int[1];
    waiters.forEachLocked(
        w -> {
          int position = ++total[0];
          PoolId pool = view.poolOf(w.requirements);
          if (only != null && !only.equals(pool)) {
            return;
          }
          matched[0]++;
          // A group per (pool, syntax, container or not).
          Acc[] bySyntax = byPool.computeIfAbsent(pool, p -> new Acc[SYNTAXES.length * 2]);
          int syntax = w.requirements.syntax().ordinal();
          boolean container = w.requirements.container();
          int s = syntax * 2 + (container ? 1 : 0);
          Acc acc = bySyntax[s];
          if (acc == null) {
            acc = new Acc(pool, SYNTAXES[syntax], container);
            bySyntax[s] = acc;
            groups.add(acc);
          }
          acc.waiting++;
          int n = listed.size();
          if (n < room) {
            listed.add(w);
            listedGroup.add(acc);
            positions[n] = position;
            inGroup[n] = acc.waiting;
          }
        });
    List<WaitingSteps.Group> outGroups = new ArrayList<>(groups.size());
    for (Acc acc : groups) {
      acc.group = explain(view, acc, query.maxPassedOver());
      outGroups.add(acc.group);
    }
    List<WaitingSteps.Step> steps = new ArrayList<>(listed.size());
    for (int i = 0; i < listed.size(); i++) {
      StepWaiters.Waiter w = listed.get(i);
      steps.add(
          new WaitingSteps.Step(
              w.stepId,
              positions[i],
              inGroup[i],
              w.requirements,
              PoolChoice.of(w.requirements),
              w.since,
              Duration.ofNanos(Math.max(0, nowNanos - w.sinceNanos)),
              listedGroup.get(i).group));
    }
    return new WaitingSteps(takenAt, total[0], matched[0], steps, outGroups);
  }

  /** Why the group's pool cannot take its steps: every member checked once against the rules. */
  static WaitingSteps.Group explain(ResolverView view, Acc acc, int maxPassedOver) {
    PoolId pool = acc.pool;
    PoolIndex pi = view.index(pool);
    int members = pi == null ? 0 : pi.members.size();
    boolean isDefault = pool.equals(view.defaultPool());
    Rules.PoolVerdict verdict =
        Rules.rule1(view.poolExists(pool), isDefault, members > 0, view.builtInEnabled());
    int[] counts = new int[REASONS.length];
    List<PassedOver> passed = new ArrayList<>(0);
    int eligible = 0;
    if (verdict == Rules.PoolVerdict.CHOOSE_A_WORKER) {
      StepRequirements req =
          StepRequirements.builder().pool(pool).syntax(acc.syntax).container(acc.container).build();
      for (WorkerState s : pi.members.values()) {
        PassedOver.Reason r =
            Rules.passOver(
                s.config.enabled(),
                s.draining,
                s.config.canRun(acc.syntax),
                s.health == null ? null : s.health.status(),
                Rules.runsContainers(req, s.health),
                s.leases,
                s.config.capOrMax());
        if (r == null) {
          eligible++;
          continue;
        }
        counts[r.ordinal()]++;
        if (passed.size() < maxPassedOver) {
          passed.add(Rules.explain(s.config, s.draining, s.health, s.leases, req));
        }
      }
    }
    Map<PassedOver.Reason, Integer> byReason = new EnumMap<>(PassedOver.Reason.class);
    for (PassedOver.Reason r : REASONS) {
      if (counts[r.ordinal()] > 0) {
        byReason.put(r, counts[r.ordinal()]);
      }
    }
    Optional<Resolution.Kind> blocked =
        switch (verdict) {
          case CHOOSE_A_WORKER ->
              eligible > 0 ? Optional.empty() : Optional.of(Resolution.Kind.NO_ELIGIBLE_WORKER);
          case BUILT_IN_WORKER -> Optional.empty();
          default -> Optional.of(verdict.blockedKind());
        };
    return new WaitingSteps.Group(
        pool,
        acc.syntax,
        acc.container,
        isDefault,
        acc.waiting,
        blocked,
        members,
        eligible,
        byReason,
        passed,
        blocked.isEmpty()
            ? List.of()
            : Unblocks.of(pool, acc.syntax, acc.container, blocked.get(), counts));
  }
}
