package io.workerpools.resolve;

import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Choosing a worker in the view and claiming it from the store: the store grants atomically, so
 * when another node took the last slot first, the view is refreshed and the choice made again, a
 * few times. All methods are called with the resolver's lock held.
 */
final class ClaimLoop {
  /** How many times a lease is claimed again after the store refused it (another node won). */
  private static final int CLAIM_ATTEMPTS = 4;

  private final InfrastructureStore store;
  private final TimeSource time;
  private final String nodeId;
  private final String leaseIdPrefix;
  private final Duration leaseTtl;
  private final SelectionStrategy strategy;
  private final ResolverView view;
  private final EventInbox inbox;
  private long leaseSeq;

  ClaimLoop(
      InfrastructureStore store,
      TimeSource time,
      String nodeId,
      Duration leaseTtl,
      SelectionStrategy strategy,
      ResolverView view,
      EventInbox inbox) {
    this.store = store;
    this.time = time;
    this.nodeId = nodeId;
    this.leaseIdPrefix = nodeId + "/" + UUID.randomUUID().toString().substring(0, 8) + "/";
    this.leaseTtl = leaseTtl;
    this.strategy = strategy;
    this.view = view;
    this.inbox = inbox;
  }

  /** Where the step would run now, and why; takes nothing. */
  Resolution resolve(StepRequirements req) {
    return view.resolve(req, strategy);
  }

  /** The lease on success, or null when blocked. */
  HeldLease tryAcquire(StepRequirements req, String stepId) {
    for (int attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      Worker chosen = view.select(req, strategy, true);
      if (chosen == null) {
        return null;
      }
      Instant now = time.now();
      LeaseRecord claim =
          new LeaseRecord(
              leaseIdPrefix + ++leaseSeq,
              chosen.id(),
              view.poolOf(req),
              nodeId,
              stepId,
              now,
              now.plus(leaseTtl));
      Optional<LeaseRecord> granted = store.tryAcquireLease(claim);
      if (granted.isPresent()) {
        HeldLease lease = new HeldLease(granted.get(), chosen, store, leaseTtl);
        // Keep the lease in the view (its event, if already applied, counted it; if the store
        // announces on another thread, this counts it now and the event will find it counted).
        view.noteHeld(lease);
        return lease;
      }
      // Another node took the last slot, or the worker changed under us: apply what we missed, then
      // start again from a fresh read of the store.
      inbox.drain();
      view.rebuild(store);
    }
    return null;
  }

  /**
   * Why the step cannot have a worker now. If the view still sees an eligible worker, the store
   * refused every claim on it: another node sharing the store took its last slot in the meantime.
   */
  Resolution.Blocked blocked(StepRequirements req) {
    Resolution.Blocked b = view.explain(req);
    Worker contended = view.select(req, strategy, false);
    if (contended == null || contended.isBuiltIn()) {
      return b;
    }
    List<PassedOver> passed = new ArrayList<>(b.passedOver());
    passed.add(
        new PassedOver(
            contended.id(),
            contended.name(),
            PassedOver.Reason.AT_CAP,
            "its free slot was taken by another node sharing the store at the same moment"));
    return new Resolution.Blocked(
        b.pool(), b.poolChoice(), Resolution.Kind.NO_ELIGIBLE_WORKER, passed, true);
  }
}
