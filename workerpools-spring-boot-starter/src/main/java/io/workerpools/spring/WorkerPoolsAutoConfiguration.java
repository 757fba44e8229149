package io.workerpools.spring;

import io.workerpools.WorkerPools;
import io.workerpools.config.InfrastructureLoader;
import io.workerpools.dispatch.DispatchListener;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.health.HealthListener;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.transport.WorkerTransport;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The {@link WorkerPools} bean, made from {@link WorkerPoolsProperties} and the context's beans:
 * every {@link WorkerTransport} bean (in {@code @Order}), an {@link InfrastructureStore} bean if
 * there is one, every {@link DispatchListener} and {@link HealthListener} bean, and a {@link
 * StepLogSink} bean as the default sink. Closed with the context. The transports and the store stay
 * the context's to close (they are beans: the context closes them after the facade).
 *
 * <p>Backs off if the application defines its own {@code WorkerPools} bean.
 */
@AutoConfiguration
@EnableConfigurationProperties(WorkerPoolsProperties.class)
public class WorkerPoolsAutoConfiguration {

  /** The facade, closed with the context. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public WorkerPools workerPools(
      WorkerPoolsProperties properties,
      ObjectProvider<WorkerTransport> transports,
      ObjectProvider<InfrastructureStore> store,
      ObjectProvider<DispatchListener> dispatchListeners,
      ObjectProvider<HealthListener> healthListeners,
      ObjectProvider<StepLogSink> logSink) {
    WorkerPools.Builder b =
        WorkerPools.builder()
            .leaseTtl(properties.getLeaseTtl())
            .closeTimeout(properties.getCloseTimeout())
            .healthPolicy(properties.getHealth().toPolicy());
    if (properties.getNodeId() != null) {
      b.nodeId(properties.getNodeId());
    }
    store.ifAvailable(b::sharedStore);
    if (properties.getInfrastructureFile() != null) {
      b.infrastructure(InfrastructureLoader.load(properties.getInfrastructureFile()));
    }
    if (properties.getBuiltInWorker() != null) {
      b.builtInWorker(properties.getBuiltInWorker());
    }
    transports.orderedStream().forEach(b::sharedTransport);
    dispatchListeners.orderedStream().forEach(b::dispatchListener);
    healthListeners.orderedStream().forEach(b::healthListener);
    logSink.ifAvailable(b::logSink);
    return b.build();
  }
}
