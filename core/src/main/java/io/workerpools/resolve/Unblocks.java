package io.workerpools.resolve;

import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import java.util.ArrayList;
import java.util.List;

/**
 * What would unblock a group of waiting steps, derived from the blockage and the members' pass-over
 * reasons: the changes that come by themselves (a lease released, a health check passed) first.
 */
final class Unblocks {
  private Unblocks() {}

  /** The change that clears a pass-over reason, or null when only another worker helps. */
  static WaitingSteps.Unblock.Kind clears(PassedOver.Reason reason) {
    return switch (reason) {
      case AT_CAP -> WaitingSteps.Unblock.Kind.LEASE_RELEASED;
      case UNHEALTHY -> WaitingSteps.Unblock.Kind.WORKER_HEALTHY;
      case DISABLED -> WaitingSteps.Unblock.Kind.WORKER_ENABLED;
      case DRAINING -> WaitingSteps.Unblock.Kind.DRAINING_STOPPED;
      case NO_CONTAINER_ENGINE -> WaitingSteps.Unblock.Kind.CONTAINER_ENGINE_FOUND;
      case WRONG_SYNTAX -> null;
    };
  }

  /**
   * @param counts members passed over, indexed by {@link PassedOver.Reason#ordinal()}
   */
  static List<WaitingSteps.Unblock> of(
      PoolId pool, ScriptSyntax syntax, boolean container, Resolution.Kind blocked, int[] counts) {
    List<WaitingSteps.Unblock> out = new ArrayList<>(4);
    String in = " of pool '" + pool + "'";
    switch (blocked) {
      case NO_ELIGIBLE_WORKER -> {
        // Reasons in the order their changes are listed: by themselves first.
        for (WaitingSteps.Unblock.Kind k : WaitingSteps.Unblock.Kind.values()) {
          int n = 0;
          for (PassedOver.Reason r : PassedOver.Reason.values()) {
            if (clears(r) == k) {
              n += counts[r.ordinal()];
            }
          }
          if (n > 0) {
            out.add(new WaitingSteps.Unblock(k, pool, n, describe(k, n, in)));
          }
        }
        out.add(added(pool, syntax, container));
      }
      case EMPTY_POOL -> out.add(added(pool, syntax, container));
      case BUILT_IN_WORKER_DISABLED -> {
        out.add(
            new WaitingSteps.Unblock(
                WaitingSteps.Unblock.Kind.BUILT_IN_WORKER_ENABLED,
                pool,
                0,
                "the built-in worker is enabled (the default pool '" + pool + "' is empty)"));
        out.add(added(pool, syntax, container));
      }
      case UNKNOWN_POOL ->
          out.add(
              new WaitingSteps.Unblock(
                  WaitingSteps.Unblock.Kind.POOL_CREATED,
                  pool,
                  0,
                  "pool '" + pool + "' is created, with a worker that runs " + syntax));
    }
    return out;
  }

  private static WaitingSteps.Unblock added(PoolId pool, ScriptSyntax syntax, boolean container) {
    return new WaitingSteps.Unblock(
        WaitingSteps.Unblock.Kind.WORKER_ADDED,
        pool,
        0,
        "a healthy worker that runs "
            + syntax
            + (container ? " with a reachable container engine" : "")
            + " is added to pool '"
            + pool
            + "'");
  }

  private static String describe(WaitingSteps.Unblock.Kind k, int n, String in) {
    String which = n == 1 ? "the worker" : "one of the " + n + " workers";
    return switch (k) {
      case LEASE_RELEASED -> "a lease is released on " + which + " at its cap" + in;
      case WORKER_HEALTHY -> which + " not healthy" + in + " passes a health check";
      case WORKER_ENABLED -> which + " disabled" + in + " is enabled";
      case DRAINING_STOPPED -> which + " draining" + in + " stops draining";
      case CONTAINER_ENGINE_FOUND ->
          which + " without a container engine" + in + " reports a reachable one";
      default -> k.name();
    };
  }
}
