package io.workerpools.health;

import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.time.TimeSource;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A transport for endpoints of kind {@code test} whose health answers the test scripts, per worker:
 * an answer, a failure, an exception, or a hang (a stage the test completes, or never).
 */
final class ScriptedTransport implements WorkerTransport {
  static final String KIND = "test";

  /** What one check does. */
  enum Outcome {
    HEALTHY,
    HAS_WARNINGS,
    UNHEALTHY,
    UNAVAILABLE,
    THROWS,
    HANGS
  }

  /** One call to checkHealth. */
  record Call(WorkerId worker, HealthCheckRequest request, long atNanos) {}

  private final TimeSource time;
  private final Map<WorkerId, Deque<Outcome>> scripts = new HashMap<>();
  private Outcome otherwise = Outcome.HEALTHY;
  private final List<Call> calls = new ArrayList<>();
  private final Map<WorkerId, List<CompletableFuture<HealthReport>>> hung = new HashMap<>();

  ScriptedTransport(TimeSource time) {
    this.time = time;
  }

  static Endpoint endpoint(String address) {
    return Endpoint.of(KIND, address);
  }

  /** The next checks of this worker do these, in order; then {@link #otherwise}. */
  synchronized ScriptedTransport script(WorkerId worker, Outcome... outcomes) {
    Deque<Outcome> q = scripts.computeIfAbsent(worker, k -> new ArrayDeque<>());
    q.addAll(List.of(outcomes));
    return this;
  }

  /** What checks do once a worker's script is used up. */
  synchronized ScriptedTransport otherwise(Outcome outcome) {
    this.otherwise = outcome;
    return this;
  }

  synchronized List<Call> calls() {
    return List.copyOf(calls);
  }

  synchronized long callsFor(WorkerId w) {
    return calls.stream().filter(c -> c.worker().equals(w)).count();
  }

  /** Completes the oldest hung check of this worker with the given status. */
  void release(WorkerId w, HealthStatus status) {
    CompletableFuture<HealthReport> f;
    synchronized (this) {
      List<CompletableFuture<HealthReport>> l = hung.get(w);
      if (l == null || l.isEmpty()) {
        throw new AssertionError("no hung check of " + w);
      }
      f = l.remove(0);
    }
    f.complete(HealthReport.of(status, time.now(), Duration.ZERO, "released"));
  }

  synchronized int hungCount() {
    return hung.values().stream().mapToInt(List::size).sum();
  }

  @Override
  public boolean supports(Endpoint endpoint) {
    return endpoint.kind().equals(KIND);
  }

  @Override
  public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
    Outcome o;
    synchronized (this) {
      calls.add(new Call(worker.id(), request, time.nanoTime()));
      Deque<Outcome> q = scripts.get(worker.id());
      o = q == null || q.isEmpty() ? otherwise : q.poll();
      if (o == Outcome.HANGS) {
        CompletableFuture<HealthReport> f = new CompletableFuture<>();
        hung.computeIfAbsent(worker.id(), k -> new ArrayList<>()).add(f);
        return f;
      }
    }
    switch (o) {
      case THROWS:
        return CompletableFuture.failedFuture(new IllegalStateException("connection reset"));
      case UNAVAILABLE:
        return CompletableFuture.completedFuture(
            HealthReport.of(HealthStatus.UNAVAILABLE, time.now(), Duration.ZERO, "refused"));
      case HAS_WARNINGS:
        return CompletableFuture.completedFuture(
            HealthReport.of(HealthStatus.HAS_WARNINGS, time.now(), Duration.ZERO, "disk 91% full"));
      case UNHEALTHY:
        return CompletableFuture.completedFuture(
            HealthReport.of(HealthStatus.UNHEALTHY, time.now(), Duration.ZERO, "script exit 1"));
      default:
        return CompletableFuture.completedFuture(
            HealthReport.of(HealthStatus.HEALTHY, time.now(), Duration.ZERO, ""));
    }
  }

  @Override
  public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
    throw new UnsupportedOperationException("health tests run no scripts");
  }
}
