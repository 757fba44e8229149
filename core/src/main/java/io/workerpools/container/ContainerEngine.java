package io.workerpools.container;

import io.workerpools.model.HealthReport;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a worker's health check found about its container engine, kept in the report's {@linkplain
 * HealthReport#details() details} under the keys {@value #KIND_KEY}, {@value #VERSION_KEY}, {@value
 * #REACHABLE_KEY} and {@value #PROBLEM_KEY}. The health monitor adds them when it probes for an
 * engine (see {@code HealthMonitor.Builder#probeContainerEngines}); the resolver gives a container
 * step only to a worker whose latest report says {@link #canRunContainers()}.
 *
 * @param kind the CLI found: {@code docker} or {@code podman}; {@value #NONE} when neither is on
 *     the worker's {@code PATH}
 * @param version the engine's server version, when it answered
 * @param reachable whether the engine answered (the CLI exists and its daemon or socket works)
 * @param problem what went wrong, in words (empty when reachable)
 */
public record ContainerEngine(String kind, String version, boolean reachable, String problem) {
  /** Details key: the CLI kind. */
  public static final String KIND_KEY = "container.engine";

  /** Details key: the engine's version. */
  public static final String VERSION_KEY = "container.version";

  /** Details key: {@code true} when the engine answered. */
  public static final String REACHABLE_KEY = "container.reachable";

  /** Details key: why the engine cannot be used. */
  public static final String PROBLEM_KEY = "container.problem";

  /** The {@link #kind()} of a worker without an engine. */
  public static final String NONE = "none";

  public ContainerEngine {
    Objects.requireNonNull(kind, "kind");
    version = version == null ? "" : version;
    problem = problem == null ? "" : problem;
  }

  /** Whether a container step may run on the worker. */
  public boolean canRunContainers() {
    return reachable && !NONE.equals(kind);
  }

  /** The engine a report names, or empty if the check did not probe for one. */
  public static Optional<ContainerEngine> of(HealthReport report) {
    if (report == null) {
      return Optional.empty();
    }
    Map<String, String> d = report.details();
    String kind = d.get(KIND_KEY);
    if (kind == null) {
      return Optional.empty();
    }
    return Optional.of(
        new ContainerEngine(
            kind,
            d.get(VERSION_KEY),
            Boolean.parseBoolean(d.get(REACHABLE_KEY)),
            d.get(PROBLEM_KEY)));
  }

  /** Whether the report says the worker can run container steps. */
  public static boolean canRunContainers(HealthReport report) {
    return of(report).map(ContainerEngine::canRunContainers).orElse(false);
  }

  /** Why a worker with this report cannot run container steps, in words. */
  public static String whyNot(HealthReport report) {
    Optional<ContainerEngine> e = of(report);
    if (e.isEmpty()) {
      return "its health checks report no container engine (they probe for one only when the"
          + " health monitor is built with probeContainerEngines(true))";
    }
    ContainerEngine c = e.get();
    if (NONE.equals(c.kind())) {
      return "no docker or podman on its PATH; install one (for example Debian's docker.io) and"
          + " start its engine";
    }
    return c.kind()
        + " found but its engine did not answer"
        + (c.problem().isEmpty() ? "" : ": " + c.problem())
        + "; start the engine (dockerd, or podman's socket) and give the worker's user access";
  }

  /** These facts as health details, to merge into a report. */
  public Map<String, String> details() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put(KIND_KEY, kind);
    if (!version.isEmpty()) {
      d.put(VERSION_KEY, version);
    }
    d.put(REACHABLE_KEY, Boolean.toString(reachable));
    if (!problem.isEmpty()) {
      d.put(PROBLEM_KEY, problem);
    }
    return d;
  }
}
