package io.workerpools.spring;

import io.workerpools.WorkerPools;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The {@link WaitingStepsEndpoint} ({@code /actuator/workerpools}), when Spring Boot Actuator is on
 * the classpath and the endpoint is available (expose it: {@code
 * management.endpoints.web.exposure.include=health,workerpools}).
 */
@AutoConfiguration(after = WorkerPoolsAutoConfiguration.class)
@ConditionalOnClass({Endpoint.class, ConditionalOnAvailableEndpoint.class})
@ConditionalOnBean(WorkerPools.class)
@ConditionalOnAvailableEndpoint(WaitingStepsEndpoint.class)
public class WorkerPoolsEndpointAutoConfiguration {

  /** The waiting-steps endpoint. */
  @Bean
  @ConditionalOnMissingBean
  public WaitingStepsEndpoint waitingStepsEndpoint(WorkerPools pools) {
    return new WaitingStepsEndpoint(pools);
  }
}
