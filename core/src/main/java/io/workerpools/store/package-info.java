/**
 * Persistence SPI for pools, workers, health and leases, and the in-memory default. See {@link
 * io.workerpools.store.InfrastructureStore}.
 */
package io.workerpools.store;
