package io.workerpools.resolve;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.WorkerId;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The members of one pool and its per-syntax indexes.
 *
 * <p>Invariant (rule 1 reads {@code members.isEmpty()}, so it must hold, and {@link
 * #inconsistencies} checks it): {@code members} is exactly the configured workers that name this
 * pool, eligible or not; {@code bySyntax[x]} holds exactly the members that {@link Rules#passOver}
 * lets take a step of syntax {@code x}.
 */
final class PoolIndex {
  final Map<WorkerId, WorkerState> members = new LinkedHashMap<>();
  final SelectionIndex[] bySyntax = new SelectionIndex[ScriptSyntax.values().length];

  /** Whether the pool exists (an index may outlive its pool briefly while events arrive). */
  boolean exists;

  PoolIndex() {
    for (int i = 0; i < bySyntax.length; i++) {
      bySyntax[i] = new SelectionIndex();
    }
  }
}
