/**
 * Health monitoring: {@link io.workerpools.health.HealthMonitor} checks every enabled worker
 * through its transport on the schedule a {@link io.workerpools.health.HealthPolicy} sets, with a
 * bound on checks in flight, and records each result in the {@link
 * io.workerpools.store.InfrastructureStore}, where the resolver sees it at once. Status changes
 * reach {@link io.workerpools.health.HealthListener}s exactly once each.
 */
package io.workerpools.health;
