package io.workerpools.spring;

import io.micrometer.core.instrument.MeterRegistry;
import io.workerpools.WorkerPools;
import io.workerpools.micrometer.WorkerPoolsMetrics;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * {@link WorkerPoolsMetrics} bound to the context's {@link MeterRegistry} (the composite one, if
 * there are several), when Micrometer is on the classpath and the application has a registry
 * (Spring Boot Actuator makes one). Off with {@code workerpools.metrics.enabled=false}; {@code
 * workerpools.metrics.per-worker=false} drops the one meter per worker.
 */
@AutoConfiguration(
    after = WorkerPoolsAutoConfiguration.class,
    afterName = {
      "org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration",
      "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration"
    })
@ConditionalOnClass({MeterRegistry.class, WorkerPoolsMetrics.class})
@ConditionalOnBean({MeterRegistry.class, WorkerPools.class})
@ConditionalOnProperty(
    prefix = "workerpools.metrics",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
public class WorkerPoolsMetricsAutoConfiguration {

  /**
   * The meters, bound here (so that they exist without Actuator too); Actuator's own binding of
   * this {@code MeterBinder} to the same registry is then a no-op. Closed with the context.
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public WorkerPoolsMetrics workerPoolsMetrics(
      WorkerPools pools, MeterRegistry registry, WorkerPoolsProperties properties) {
    WorkerPoolsMetrics metrics =
        WorkerPoolsMetrics.builder(pools).perWorker(properties.getMetrics().isPerWorker()).build();
    metrics.bindTo(registry);
    return metrics;
  }
}
