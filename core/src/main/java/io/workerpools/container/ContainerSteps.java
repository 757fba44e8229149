package io.workerpools.container;

import io.workerpools.container.internal.ContainerRun;
import io.workerpools.container.internal.EngineProbe;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.util.concurrent.CompletionStage;

/**
 * Runs container steps through any {@link WorkerTransport}, which needs to know nothing about
 * containers. The step dispatcher and the health monitor call it; a host that drives a transport by
 * hand calls it the same way.
 *
 * <p>{@link #start}: a request that names a {@link ContainerSpec} becomes a plain bash script for
 * the worker's transport, a wrapper that runs {@code docker run} (or {@code podman run}) with:
 *
 * <ul>
 *   <li>the step's working directory (its files) mounted at the spec's working directory, and the
 *       user's script and environment as two more files there (0600, like every file a transport
 *       places; the environment file is deleted as soon as the container has read it), so that
 *       neither ever appears on a command line, in {@code ps} or in {@code docker inspect};
 *   <li>the worker's own uid:gid unless the spec names a user, network {@code none} unless the spec
 *       asks for another, and labels {@value ContainerSpec#LIBRARY_LABEL} and {@value
 *       ContainerSpec#EXECUTION_LABEL}{@code =<execution id>};
 *   <li>output through the transport's own masked line path; the exit code is the script's;
 *   <li>a missing engine, a missing image or a failed pull reported as {@code COULD_NOT_START}
 *       naming the image, not as the script's failure;
 *   <li>after a cancel, a timeout or a lost connection, a follow-up script through the same
 *       transport that removes the execution's containers (killing the CLI client alone leaves the
 *       container running); the result completes after it.
 * </ul>
 *
 * <p>{@link #checkHealth}: the transport's check, then (for an eligible worker) a probe of its
 * engine, whose findings go into the report's details as {@link ContainerEngine}; the probe also
 * removes the library's orphaned containers.
 *
 * <p>Thread-safe and stateless; results complete on the transport's threads.
 */
public final class ContainerSteps {
  private ContainerSteps() {}

  /**
   * Starts {@code request} on the worker: in its container if it names one, else exactly as {@code
   * transport.start} would.
   */
  public static ScriptExecution start(
      WorkerTransport transport, Worker worker, ScriptRequest request, LogSink sink) {
    if (request.container().isEmpty()) {
      return transport.start(worker, request, sink);
    }
    return ContainerRun.start(transport, worker, request, sink);
  }

  /** The transport's health check, with the worker's container engine in the details. */
  public static CompletionStage<HealthReport> checkHealth(
      WorkerTransport transport, Worker worker, HealthCheckRequest request) {
    return EngineProbe.check(transport, worker, request);
  }
}
