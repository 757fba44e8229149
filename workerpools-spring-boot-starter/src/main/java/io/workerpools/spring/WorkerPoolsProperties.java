package io.workerpools.spring;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPools;
import io.workerpools.health.HealthPolicy;
import io.workerpools.resolve.WorkerResolver;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code workerpools.*} properties. Each setter checks its value with the rule the library
 * applies, so a bad value fails the application's start naming the property (Spring Boot reports
 * "Failed to bind properties under 'workerpools.lease-ttl'" with the reason).
 *
 * <pre>
 * workerpools:
 *   infrastructure-file: config/infrastructure.yaml   # pools and workers (YAML or JSON)
 *   built-in-worker: false                           # never run steps on this host
 *   node-id: app-1                                   # unique per node sharing a store
 *   lease-ttl: 60s
 *   health:
 *     interval: 1m
 *     timeout: 10s
 *     failures-before-unavailable: 2
 *   metrics:
 *     per-worker: false                              # for fleets of thousands of workers
 * </pre>
 */
@ConfigurationProperties("workerpools")
public class WorkerPoolsProperties {
  /**
   * Pools and workers to load when the application starts, replacing what the store held (YAML or
   * JSON, by its extension). Default: none (the store's own, a new in-memory store's being one
   * empty default pool).
   */
  private Path infrastructureFile;

  /**
   * Switches the built-in worker (rule 1: steps of an empty default pool run on this host) on or
   * off at start, overriding the store's and the file's setting. Default: unset (keep theirs; on in
   * a new store).
   */
  private Boolean builtInWorker;

  /**
   * This node's id, carried by its leases: unique per node sharing a store. Letters, digits, '.',
   * '_', '-'. Default: "node-" and 12 random hex digits, new at every start.
   */
  private String nodeId;

  /** How long a lease lives without renewal: a dead node's leases come back after it (min 1s). */
  private Duration leaseTtl = WorkerResolver.DEFAULT_LEASE_TTL;

  /** How long closing the context waits for cancelled steps to end. */
  private Duration closeTimeout = WorkerPools.DEFAULT_CLOSE_TIMEOUT;

  /** The health policy of every worker. */
  private final Health health = new Health();

  /** The Micrometer meters. */
  private final Metrics metrics = new Metrics();

  public Path getInfrastructureFile() {
    return infrastructureFile;
  }

  public void setInfrastructureFile(Path file) {
    this.infrastructureFile = file;
  }

  public Boolean getBuiltInWorker() {
    return builtInWorker;
  }

  public void setBuiltInWorker(Boolean enabled) {
    this.builtInWorker = enabled;
  }

  public String getNodeId() {
    return nodeId;
  }

  public void setNodeId(String nodeId) {
    if (nodeId != null) {
      check("workerpools.node-id", () -> WorkerPools.builder().nodeId(nodeId));
    }
    this.nodeId = nodeId;
  }

  public Duration getLeaseTtl() {
    return leaseTtl;
  }

  public void setLeaseTtl(Duration leaseTtl) {
    check("workerpools.lease-ttl", () -> WorkerPools.builder().leaseTtl(leaseTtl));
    this.leaseTtl = leaseTtl;
  }

  public Duration getCloseTimeout() {
    return closeTimeout;
  }

  public void setCloseTimeout(Duration closeTimeout) {
    check("workerpools.close-timeout", () -> WorkerPools.builder().closeTimeout(closeTimeout));
    this.closeTimeout = closeTimeout;
  }

  public Health getHealth() {
    return health;
  }

  public Metrics getMetrics() {
    return metrics;
  }

  /**
   * Runs the library's own check of a value; its error is thrown again naming the property as the
   * application's configuration spells it, with the library's reason.
   */
  static <T> T check(String property, java.util.function.Supplier<T> rule) {
    try {
      return rule.get();
    } catch (ConfigurationException e) {
      String m = e.getMessage();
      String reason = m.startsWith(e.field() + ": ") ? m.substring(e.field().length() + 2) : m;
      throw new ConfigurationException(property, reason, e);
    }
  }

  /** {@code workerpools.health.*}: the health policy of every worker. */
  public static class Health {
    /** How often each worker is checked. */
    private Duration interval = HealthPolicy.DEFAULT_INTERVAL;

    /** How long a check may take before it counts as failed (not longer than the interval). */
    private Duration timeout = HealthPolicy.DEFAULT_TIMEOUT;

    /** How many failed checks in a row make a worker UNAVAILABLE (at least 1). */
    private int failuresBeforeUnavailable = HealthPolicy.DEFAULT_FAILURES_BEFORE_UNAVAILABLE;

    /** The spread of check times, as a fraction of the interval (0 to 0.5). */
    private double jitter = HealthPolicy.DEFAULT_JITTER;

    /** Whether an UNAVAILABLE worker is expected (laptops, spot machines): no alarm for it. */
    private boolean mayBeOffline;

    public Duration getInterval() {
      return interval;
    }

    public void setInterval(Duration interval) {
      check(
          "workerpools.health.interval",
          () ->
              HealthPolicy.builder()
                  .interval(interval)
                  .timeout(shorter(timeout, interval))
                  .build());
      this.interval = interval;
    }

    public Duration getTimeout() {
      return timeout;
    }

    public void setTimeout(Duration timeout) {
      check(
          "workerpools.health.timeout",
          () ->
              HealthPolicy.builder().timeout(timeout).interval(longer(timeout, interval)).build());
      this.timeout = timeout;
    }

    public int getFailuresBeforeUnavailable() {
      return failuresBeforeUnavailable;
    }

    public void setFailuresBeforeUnavailable(int failures) {
      check(
          "workerpools.health.failures-before-unavailable",
          () -> HealthPolicy.builder().failuresBeforeUnavailable(failures).build());
      this.failuresBeforeUnavailable = failures;
    }

    public double getJitter() {
      return jitter;
    }

    public void setJitter(double jitter) {
      check("workerpools.health.jitter", () -> HealthPolicy.builder().jitter(jitter).build());
      this.jitter = jitter;
    }

    public boolean isMayBeOffline() {
      return mayBeOffline;
    }

    public void setMayBeOffline(boolean mayBeOffline) {
      this.mayBeOffline = mayBeOffline;
    }

    /** The policy these make; the timeout-within-interval rule is checked here. */
    HealthPolicy toPolicy() {
      return check(
          "workerpools.health.timeout",
          () ->
              HealthPolicy.builder()
                  .interval(interval)
                  .timeout(timeout)
                  .failuresBeforeUnavailable(failuresBeforeUnavailable)
                  .jitter(jitter)
                  .mayBeOffline(mayBeOffline)
                  .build());
    }

    // Each setter checks its own value alone; the pair is checked when the policy is made.
    private static Duration shorter(Duration a, Duration b) {
      return a == null || b == null || a.compareTo(b) <= 0 ? a : b;
    }

    private static Duration longer(Duration a, Duration b) {
      return a == null || b == null || a.compareTo(b) >= 0 ? a : b;
    }
  }

  /** {@code workerpools.metrics.*}: the Micrometer meters (when there is a MeterRegistry). */
  public static class Metrics {
    /** Whether to bind the meters to the context's MeterRegistry. */
    private boolean enabled = true;

    /**
     * Whether to register the one meter per worker ({@code workerpools.worker.leases.active}); turn
     * off for fleets of thousands of workers.
     */
    private boolean perWorker = true;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public boolean isPerWorker() {
      return perWorker;
    }

    public void setPerWorker(boolean perWorker) {
      this.perWorker = perWorker;
    }
  }
}
