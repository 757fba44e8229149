package io.workerpools.resolve;

import io.workerpools.model.Worker;
import java.util.List;

/**
 * Chooses among the eligible workers of a pool. The default ({@link #FEWEST_LEASES}) picks the
 * worker with the fewest active leases, ties broken round robin.
 *
 * <p>Threading: called by the resolver under its own lock, from the thread that asked to resolve;
 * must be quick, must not block, must not call back into the resolver or the store.
 */
public interface SelectionStrategy {

  /**
   * The built-in default: fewest active leases, fair among ties. Handled by the resolver's index.
   */
  SelectionStrategy FEWEST_LEASES =
      new SelectionStrategy() {
        @Override
        public Worker select(List<Candidate> eligible) {
          throw new UnsupportedOperationException(
              "FEWEST_LEASES is served by the resolver's index");
        }

        @Override
        public String toString() {
          return "FEWEST_LEASES";
        }
      };

  /**
   * Picks one of {@code eligible} (non-empty, each under its cap). Called only for custom
   * strategies: the default strategy is served by an index without building this list.
   */
  Worker select(List<Candidate> eligible);

  /**
   * An eligible worker and how many leases it holds now.
   *
   * @param worker the worker
   * @param activeLeases its active lease count
   */
  record Candidate(Worker worker, int activeLeases) {}
}
