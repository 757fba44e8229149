/**
 * Micrometer metrics for WorkerPools: {@link io.workerpools.micrometer.WorkerPoolsMetrics}, a
 * {@link io.micrometer.core.instrument.binder.MeterBinder} a host binds to its {@code
 * MeterRegistry}. Core never depends on Micrometer; this module is optional.
 */
package io.workerpools.micrometer;
