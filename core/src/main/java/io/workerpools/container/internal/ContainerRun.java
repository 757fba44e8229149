package io.workerpools.container.internal;

import io.workerpools.container.ContainerSpec;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.WorkerTransport;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One container step on its worker: the wrapper's execution, and the follow-up that removes the
 * container when the wrapper was stopped (cancel, timeout, a lost connection: killing the {@code
 * docker run} client does not stop the container). The result completes after that follow-up.
 */
public final class ContainerRun implements ScriptExecution {
  /** The longest the follow-up clean-up may take. */
  public static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(30);

  private final WorkerTransport transport;
  private final Worker worker;
  private final ScriptRequest request;
  private final ContainerOutput output;
  private final ScriptExecution wrapper;
  private final CompletableFuture<ScriptResult> result = new CompletableFuture<>();

  private ContainerRun(
      WorkerTransport transport, Worker worker, ScriptRequest request, LogSink sink) {
    this.transport = transport;
    this.worker = worker;
    this.request = request;
    String marker = WrapperScript.newMarker();
    this.output = new ContainerOutput(sink, marker);
    this.wrapper = transport.start(worker, WrapperScript.wrap(request, marker), output);
  }

  /** Starts {@code request} (which names a container) on the worker through {@code transport}. */
  public static ScriptExecution start(
      WorkerTransport transport, Worker worker, ScriptRequest request, LogSink sink) {
    ContainerRun run = new ContainerRun(transport, worker, request, sink);
    run.wrapper.result().whenComplete((r, e) -> run.ended(r, e));
    return run;
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
    wrapper.cancel();
  }

  private void ended(ScriptResult r, Throwable e) {
    if (e != null) {
      r = ScriptResult.of(ScriptResult.Outcome.WORKER_LOST, Duration.ZERO, String.valueOf(e));
    }
    String image = request.container().map(ContainerSpec::image).orElse("?");
    switch (r.outcome()) {
      case EXITED -> result.complete(exited(r, image));
      case CANCELLED, TIMED_OUT, WORKER_LOST, UNKNOWN_RESULT -> cleanUpThen(r);
      default -> result.complete(r);
    }
  }

  private ScriptResult exited(ScriptResult r, String image) {
    if (output.started()) {
      return r;
    }
    String why;
    if (output.noEngine()) {
      why =
          "neither docker nor podman is on the worker's PATH; install one (for example Debian's"
              + " docker.io) or run the step on a worker that has one";
    } else if (output.noImage()) {
      why =
          request.container().get().pullPolicy() == ContainerSpec.PullPolicy.NEVER
              ? "the image is not on the worker and the pull policy is NEVER; load it there"
                  + " (docker load / docker pull) or allow pulling"
              : "the image is not on the worker and could not be pulled (see the engine's message"
                  + " in the step's log); check the name, the registry and the worker's access to"
                  + " it";
    } else {
      why =
          "the container engine exited with "
              + r.exitCode().getAsInt()
              + " before the script started (see the engine's message in the step's log)";
    }
    return ScriptResult.of(
        ScriptResult.Outcome.COULD_NOT_START,
        r.duration(),
        "could not start a container of image '" + image + "' on " + worker.name() + ": " + why);
  }

  /**
   * Removes the execution's containers through the same transport, then completes with {@code r}.
   */
  private void cleanUpThen(ScriptResult r) {
    AtomicReference<String> lastError = new AtomicReference<>("");
    ScriptRequest cleanup =
        ScriptRequest.builder(ScriptSyntax.BASH, WrapperScript.cleanup(request.executionId()))
            .executionId(request.executionId() + "-container-cleanup")
            .timeout(CLEANUP_TIMEOUT)
            .build();
    LogSink errors =
        line -> {
          if (line.source() == LogLine.Source.STDERR) {
            lastError.set(line.text());
          }
        };
    CompletionStage<ScriptResult> done;
    try {
      done = transport.start(worker, cleanup, errors).result();
    } catch (RuntimeException ex) {
      done = CompletableFuture.failedFuture(ex);
    }
    done.whenComplete(
        (c, ex) -> {
          String note;
          if (ex == null && c.succeeded()) {
            note = "its container was removed";
          } else {
            note =
                "removing its container failed ("
                    + (ex != null ? ex : c.outcome() + " " + c.exitCode() + " " + lastError.get())
                    + "); the next health check that probes the engine removes it once stopped";
          }
          String msg = r.message().isEmpty() ? note : r.message() + "; " + note;
          result.complete(new ScriptResult(r.outcome(), r.exitCode(), r.duration(), msg));
        });
  }
}
