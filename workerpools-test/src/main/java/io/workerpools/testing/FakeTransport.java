package io.workerpools.testing;

import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.WorkerTransport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * An in-memory transport for dispatcher tests: every start is kept pending until the test ends it
 * with an outcome of its choice. Supports every endpoint. Not thread-safe beyond its own lock.
 */
public final class FakeTransport implements WorkerTransport {
  /** A started script, waiting for the test to end it. */
  public final class Pending implements ScriptExecution {
    public final Worker worker;
    public final ScriptRequest request;
    public final LogSink sink;
    public final CompletableFuture<ScriptResult> result = new CompletableFuture<>();

    Pending(Worker worker, ScriptRequest request, LogSink sink) {
      this.worker = worker;
      this.request = request;
      this.sink = sink;
    }

    @Override
    public String executionId() {
      return request.executionId();
    }

    @Override
    public CompletionStage<ScriptResult> result() {
      return result;
    }

    @Override
    public void cancel() {
      end(ScriptResult.of(ScriptResult.Outcome.CANCELLED, Duration.ZERO, "cancelled"));
    }

    /** Ends the script; the first ending wins, as with a real transport. */
    public boolean end(ScriptResult r) {
      synchronized (FakeTransport.this) {
        if (result.isDone()) {
          return false;
        }
        pending.remove(this);
        endings.put(request.executionId(), r);
      }
      sink.onLine(new LogLine(Instant.now(), LogLine.Source.STDOUT, "ending " + r.outcome()));
      return result.complete(r);
    }
  }

  private final List<Pending> pending = new ArrayList<>();
  private final Map<String, ScriptResult> endings = new HashMap<>();
  private int started;
  private RuntimeException failStartsWith;

  @Override
  public boolean supports(Endpoint endpoint) {
    return true;
  }

  @Override
  public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
    return CompletableFuture.completedFuture(
        HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
  }

  @Override
  public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
    Pending p;
    synchronized (this) {
      if (failStartsWith != null) {
        throw failStartsWith;
      }
      p = new Pending(worker, request, sink);
      pending.add(p);
      started++;
    }
    sink.onLine(
        new LogLine(Instant.now(), LogLine.Source.STDOUT, "started " + request.executionId()));
    return p;
  }

  public synchronized List<Pending> pending() {
    return List.copyOf(pending);
  }

  public synchronized int started() {
    return started;
  }

  /** How the transport ended each execution, by execution id. */
  public synchronized Map<String, ScriptResult> endings() {
    return Map.copyOf(endings);
  }

  public synchronized void failStartsWith(RuntimeException e) {
    this.failStartsWith = e;
  }
}
