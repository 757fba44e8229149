package io.workerpools.health;

import io.workerpools.model.Worker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The host's {@link HealthPolicyResolver}, with the defaults when it fails or gives nothing. */
final class SafePolicies {
  private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);
  private final HealthPolicyResolver resolver;

  SafePolicies(HealthPolicyResolver resolver) {
    this.resolver = resolver;
  }

  HealthPolicy policyFor(Worker w) {
    try {
      HealthPolicy p = resolver.policyFor(w);
      if (p != null) {
        return p;
      }
      LOG.warn("health policy resolver returned null for worker {}; using the defaults", w.id());
    } catch (RuntimeException e) {
      LOG.warn("health policy resolver failed for worker {}; using the defaults", w.id(), e);
    }
    return HealthPolicy.defaults();
  }
}
