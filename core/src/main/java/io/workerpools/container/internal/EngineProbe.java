package io.workerpools.container.internal;

import io.workerpools.container.ContainerEngine;
import io.workerpools.model.HealthReport;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.WorkerTransport;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

/**
 * After a health check that found the worker eligible, runs {@link WrapperScript#probe()} through
 * the worker's transport and adds what it found to the report's details ({@link ContainerEngine}).
 * A probe that fails to run leaves the report as it was, with {@code container.reachable=false}.
 */
public final class EngineProbe {
  private EngineProbe() {}

  /** The health check, then the probe when the worker answered. */
  public static CompletionStage<HealthReport> check(
      WorkerTransport transport, Worker worker, HealthCheckRequest request) {
    return transport
        .checkHealth(worker, request)
        .thenCompose(
            report -> {
              if (report == null || !report.status().isEligible()) {
                return CompletableFuture.completedFuture(report);
              }
              return probe(transport, worker, request).thenApply(e -> merge(report, e));
            });
  }

  private static CompletionStage<ContainerEngine> probe(
      WorkerTransport transport, Worker worker, HealthCheckRequest request) {
    AtomicReference<String> answer = new AtomicReference<>();
    ScriptRequest probe =
        ScriptRequest.builder(ScriptSyntax.BASH, WrapperScript.probe())
            .executionId("container-probe-" + UUID.randomUUID())
            .timeout(request.timeout())
            .build();
    CompletionStage<ScriptResult> done;
    try {
      done =
          transport
              .start(
                  worker,
                  probe,
                  line -> {
                    if (line.source() == LogLine.Source.STDOUT
                        && line.text().startsWith(WrapperScript.ENGINE_MARKER + " ")) {
                      answer.compareAndSet(null, line.text());
                    }
                  })
              .result();
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(
          new ContainerEngine("unknown", "", false, "the probe could not start: " + e));
    }
    return done.handle(
        (r, e) -> {
          String a = answer.get();
          if (a == null) {
            String why = e != null ? String.valueOf(e) : r.outcome() + " " + r.message();
            return new ContainerEngine("unknown", "", false, "the probe did not answer: " + why);
          }
          return parse(a);
        });
  }

  /** Reads the probe's answer line. */
  static ContainerEngine parse(String line) {
    String[] p = line.substring(WrapperScript.ENGINE_MARKER.length() + 1).split(" ", 3);
    if (p[0].equals(ContainerEngine.NONE)) {
      return new ContainerEngine(ContainerEngine.NONE, "", false, "no docker or podman on PATH");
    }
    String kind = p[0].equals("docker") || p[0].equals("podman") ? p[0] : "unknown";
    boolean ok = p.length > 1 && p[1].equals("ok");
    String rest = p.length > 2 ? bounded(p[2]) : "";
    return ok
        ? new ContainerEngine(kind, rest, true, "")
        : new ContainerEngine(kind, "", false, rest.isEmpty() ? "no answer" : rest);
  }

  private static String bounded(String s) {
    return s.length() > 300 ? s.substring(0, 300) : s;
  }

  private static HealthReport merge(HealthReport report, ContainerEngine engine) {
    Map<String, String> details = new HashMap<>(report.details());
    details.putAll(engine.details());
    return new HealthReport(
        report.status(), report.checkedAt(), report.latency(), report.message(), details);
  }
}
