package io.workerpools.resolve;

import io.workerpools.model.Worker;
import java.util.List;

/**
 * Chooses among the eligible workers of a pool (those {@link Rules#passOver} lets take the step).
 * The default, {@link #FEWEST_LEASES}, picks the worker with the fewest active leases, ties broken
 * round robin.
 *
 * <p>Threading: called by the resolver under its own lock, from the thread that asked to resolve;
 * must be quick, must not block, must not call back into the resolver or the store.
 */
public interface SelectionStrategy {

  /**
   * The default: fewest active leases, fair among ties. A plain strategy like any other ({@link
   * FewestLeases}); the resolver serves it from an index per (pool, syntax) that makes the same
   * choice without building the candidate list (a property test proves them equal).
   */
  SelectionStrategy FEWEST_LEASES = new FewestLeases();

  /**
   * Picks one of {@code eligible} (non-empty, each under its cap, in no particular order). The
   * resolver validates the answer: a worker that was not offered is an error.
   */
  Worker select(List<Candidate> eligible);

  /**
   * An eligible worker and how many leases it holds now.
   *
   * @param worker the worker
   * @param activeLeases its active lease count (all nodes)
   * @param turn when it came to hold that count, or became eligible, as an increasing sequence
   *     number of this resolver (lower: it has waited longer at that count); the round-robin key
   */
  record Candidate(Worker worker, int activeLeases, long turn) {
    /** A candidate without a turn (0), for strategies and tests that do not use it. */
    public Candidate(Worker worker, int activeLeases) {
      this(worker, activeLeases, 0);
    }
  }

  /**
   * Fewest active leases; among ties, the worker that has waited longest at that count (lowest
   * {@link Candidate#turn}). Taking a lease gives a worker a new count and a new turn, so tied
   * workers are taken in turn: round robin.
   */
  final class FewestLeases implements SelectionStrategy {
    private FewestLeases() {}

    @Override
    public Worker select(List<Candidate> eligible) {
      Candidate best = null;
      for (Candidate c : eligible) {
        if (best == null
            || c.activeLeases() < best.activeLeases()
            || (c.activeLeases() == best.activeLeases() && c.turn() < best.turn())) {
          best = c;
        }
      }
      return best == null ? null : best.worker();
    }

    @Override
    public String toString() {
      return "FEWEST_LEASES";
    }
  }
}
