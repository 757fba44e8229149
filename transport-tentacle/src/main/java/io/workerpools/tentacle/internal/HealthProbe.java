package io.workerpools.tentacle.internal;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.HealthScriptVerdict;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;

/**
 * A Tentacle worker's health check: a {@code capabilities} call (its latency, the agent's OS, free
 * disk and services), then the request's health script, if any, judged by core's {@link
 * HealthScriptVerdict}. Never fails: an unreachable or refusing agent is {@code UNAVAILABLE}.
 */
public final class HealthProbe {
  private HealthProbe() {}

  /** Runs the check on {@code executor}; {@code start} runs the health script. */
  public static CompletionStage<HealthReport> check(
      Worker worker,
      Target t,
      HealthCheckRequest request,
      Caller caller,
      Executor executor,
      Duration collectTimeout,
      BiFunction<ScriptRequest, LogSink, ScriptExecution> start) {
    CompletableFuture<HealthReport> f = new CompletableFuture<>();
    executor.execute(
        () -> {
          long t0 = System.nanoTime();
          try {
            Duration collect = min(collectTimeout, request.timeout());
            Messages.Capabilities caps;
            try {
              caps = capabilities(t, caller, collect);
            } catch (IOException e) {
              Duration left = collect.minusNanos(System.nanoTime() - t0);
              if (e instanceof PeerConnection.ConnectFailure || left.toMillis() <= 0) {
                throw e;
              }
              // The connection died under the call (a cut): capabilities only reads, so asking
              // once more, on a fresh or proved connection, is safe.
              caps = capabilities(t, caller, left);
            }
            Duration latency = Duration.ofNanos(System.nanoTime() - t0);
            Map<String, String> details = new HashMap<>();
            details.put("os", caps.os());
            details.put("freeDiskBytes", Long.toString(caps.freeDiskBytes()));
            details.put("services", String.join(",", caps.services()));
            details.put("agentThumbprint", worker.endpoint().properties().get("thumbprint"));
            HealthReport connectivity =
                new HealthReport(HealthStatus.HEALTHY, Instant.now(), latency, "", details);
            if (request.healthScript().isEmpty()) {
              f.complete(connectivity);
              return;
            }
            ScriptRequest script =
                request
                    .healthScript()
                    .get()
                    .withExecutionId("health-" + java.util.UUID.randomUUID());
            HealthScriptVerdict verdict = new HealthScriptVerdict();
            start
                .apply(script, verdict)
                .result()
                .whenComplete(
                    (r, e) ->
                        f.complete(
                            e != null
                                ? unavailable(t0, "health script: " + e.getMessage())
                                : verdict.report(r, connectivity, Instant.now(), latency)));
          } catch (PeerConnection.PeerAuthenticationFailure e) {
            f.complete(
                unavailable(
                    t0,
                    e instanceof PeerConnection.PeerRefusal
                        ? e.getMessage()
                        : "authentication failed: " + e.getMessage()));
          } catch (IOException | Caller.RemoteError | RuntimeException e) {
            f.complete(unavailable(t0, e.getMessage()));
          }
        });
    return f;
  }

  private static Messages.Capabilities capabilities(Target t, Caller caller, Duration collect)
      throws IOException, Caller.RemoteError {
    return caller.once(
        t,
        "capabilities",
        new Messages.Empty(),
        Messages.Capabilities.class,
        null,
        Duration.ZERO,
        collect);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static HealthReport unavailable(long t0, String message) {
    return HealthReport.of(
        HealthStatus.UNAVAILABLE, Instant.now(), Duration.ofNanos(System.nanoTime() - t0), message);
  }
}
