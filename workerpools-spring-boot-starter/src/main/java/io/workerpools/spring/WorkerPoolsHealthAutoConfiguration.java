package io.workerpools.spring;

import io.workerpools.WorkerPools;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * A health contributor per pool, under {@code workerPools} ({@code /actuator/health/workerPools}),
 * when Spring Boot Actuator is on the classpath. Off with {@code
 * management.health.workerpools.enabled=false}.
 */
@AutoConfiguration(after = WorkerPoolsAutoConfiguration.class)
@ConditionalOnClass({CompositeHealthContributor.class, ConditionalOnEnabledHealthIndicator.class})
@ConditionalOnBean(WorkerPools.class)
@ConditionalOnEnabledHealthIndicator("workerpools")
public class WorkerPoolsHealthAutoConfiguration {

  /** Named {@code workerPools} by Actuator (the bean name without its suffix). */
  @Bean
  @ConditionalOnMissingBean(name = "workerPoolsHealthContributor")
  public CompositeHealthContributor workerPoolsHealthContributor(WorkerPools pools) {
    return new PoolHealthContributor(pools);
  }
}
