package io.workerpools.store;

import io.workerpools.model.HealthReport;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where pools, workers, health and leases live. The host plugs in its own (its database), or uses
 * {@link InMemoryInfrastructureStore} (one process) or the JDBC store (several host nodes, one
 * database).
 *
 * <p>Contract, for implementers:
 *
 * <ul>
 *   <li>Thread-safe; every method may be called from any thread.
 *   <li>Configuration changes are validated as {@link Infrastructure} validates them (unknown pool
 *       ids, duplicate names, removing the default pool or a pool with workers, ...) and rejected
 *       with a {@link io.workerpools.ConfigurationException} naming the field.
 *   <li>{@link #tryAcquireLease} is atomic across every node sharing the store: it grants the lease
 *       only if the worker exists, is enabled, is not draining and holds fewer leases than its cap.
 *       This is the one check that must hold under concurrency; the caller has already checked
 *       health and syntax against its own view.
 *   <li>{@link #releaseLease} returns true exactly once per granted lease.
 *   <li>Lease time: a store shared by several nodes keeps lease time by one clock of its own (the
 *       JDBC store: the database's), so that a node whose clock is wrong can neither over-grant a
 *       worker nor expire another node's live lease. The instants callers pass are then only used
 *       for the durations they span; a store without a clock of its own (the in-memory one) uses
 *       them as given.
 *   <li>Node identity: {@link #heartbeatNode} refuses a second live instance of a node id, so that
 *       renewing by holder renews one live node's leases only.
 *   <li>Every change is announced to listeners as a {@link StoreEvent}, after it is made.
 *   <li>Failures to reach the store's backend throw {@link StoreUnavailableException}.
 * </ul>
 *
 * Callers: the resolver (reads, leases), the health monitor (health), the host (configuration).
 */
public interface InfrastructureStore extends AutoCloseable {

  // ---- configuration ----

  /** The current configuration. */
  Infrastructure infrastructure();

  /** Adds or replaces a pool. */
  void putPool(WorkerPool pool);

  /** Removes a pool: not the default one, and not one that still holds workers. */
  void removePool(PoolId pool);

  /** Makes another existing pool the default. */
  void setDefaultPool(PoolId pool);

  /** Switches rule 1 on or off. */
  void setBuiltInWorkerEnabled(boolean enabled);

  /** Adds or replaces a worker. Its health, leases and draining flag are kept on replacement. */
  void putWorker(Worker worker);

  /** Removes a worker. Its leases stay until released or expired; its health is forgotten. */
  void removeWorker(WorkerId worker);

  /** Replaces the whole configuration (for example, loaded from a file). */
  void replaceInfrastructure(Infrastructure infrastructure);

  // ---- runtime state ----

  /** Records a worker's latest health. Ignored for a worker that no longer exists. */
  void recordHealth(WorkerId worker, HealthReport report);

  /** The latest health of each worker that has been checked. */
  Map<WorkerId, HealthReport> health();

  /** Starts or stops draining a worker: a draining worker gets no new leases. */
  void setDraining(WorkerId worker, boolean draining);

  /** The workers that are draining. */
  Set<WorkerId> draining();

  // ---- leases ----

  /**
   * Grants the lease atomically if the worker exists (or is the built-in worker), is enabled, is
   * not draining, and holds fewer leases than its cap; otherwise returns empty. A store must grant
   * the built-in worker only while rule 1 holds at that moment (the claim's pool is the default
   * pool, it holds no worker, and the built-in worker is switched on), so that a resolver whose
   * view has not yet seen a worker join the default pool cannot run a step on the host; {@code
   * InfrastructureStoreContract} checks it.
   *
   * @param claim the lease as the claimant wants it held (its id made by the claimant, unique). A
   *     store with a clock of its own stamps {@code acquiredAt} by that clock and {@code expiresAt}
   *     one TTL ({@code claim.expiresAt - claim.acquiredAt}) later, and returns the lease as
   *     stamped; the in-memory store keeps the claim as given and returns it
   * @throws IllegalArgumentException if a lease with the same id is already held
   */
  Optional<LeaseRecord> tryAcquireLease(LeaseRecord claim);

  /**
   * Moves every lease of {@code holder} that has not expired yet to expire {@code ttl} after now
   * (the store's own clock if it keeps one, else {@code now}); returns how many. A lease already
   * past its expiry is never revived: it may be a dead instance's that carried the same node id.
   */
  int renewLeases(String holder, Instant now, Duration ttl);

  /** Ends a lease. True exactly once for each granted lease; false if it had already ended. */
  boolean releaseLease(String leaseId);

  /** The leases held now. */
  List<LeaseRecord> leases();

  /**
   * Ends every lease whose expiry is before now (the store's own clock if it keeps one, else {@code
   * now}); returns them.
   */
  List<LeaseRecord> expireLeases(Instant now);

  // ---- node identity ----

  /**
   * Registers the live instance {@code instance} of node {@code nodeId}, or re-affirms it, for
   * {@code ttl} from now (the store's clock if it keeps one). The resolver calls it when it starts
   * and every time it renews its leases.
   *
   * @throws NodeIdInUseException if another instance holds {@code nodeId} and has not yet expired
   */
  default void heartbeatNode(String nodeId, String instance, Instant now, Duration ttl) {}

  /** Ends the registration of {@code instance} of {@code nodeId}, if it holds it (best effort). */
  default void leaveNode(String nodeId, String instance) {}

  // ---- changes ----

  /** Adds a listener; closing the returned handle removes it. */
  AutoCloseable subscribe(StoreListener listener);

  @Override
  default void close() {}
}
