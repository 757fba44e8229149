/**
 * Persistence SPI for pools, workers, health and leases, and the in-memory default. See {@link
 * io.workerpools.store.InfrastructureStore}. Implementations prove themselves by extending the
 * {@code InfrastructureStoreContract} test class published in core's test-jar.
 */
package io.workerpools.store;
