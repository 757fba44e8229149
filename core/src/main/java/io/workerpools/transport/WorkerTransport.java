package io.workerpools.transport;

import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Worker;
import java.util.concurrent.CompletionStage;

/**
 * Reaches workers of one or more endpoint kinds: checks their health and runs scripts on them. This
 * is the SPI a host implements to run steps somewhere new (a container, a cloud API); the library
 * ships the local-process transport (the built-in worker), SSH and the Tentacle agent.
 *
 * <p>Contract, for implementers:
 *
 * <ul>
 *   <li>Called by the dispatcher and the health monitor from any thread, concurrently, for the same
 *       or different workers. Implementations are thread-safe.
 *   <li>{@link #start} and {@link #checkHealth} must not block the caller on network or process I/O
 *       beyond what it takes to hand the work to the transport's own threads; results arrive
 *       through the returned stages.
 *   <li>Failures to reach a worker complete the returned stage: {@link
 *       ScriptResult.Outcome#WORKER_LOST} or {@link ScriptResult.Outcome#COULD_NOT_START} for
 *       scripts, an {@code UNAVAILABLE} report for health. Only programming errors (an unsupported
 *       endpoint, an invalid request) throw.
 *   <li>The script travels as data (a file, stdin or a protocol field), never spliced into a
 *       command line. Values in {@link ScriptRequest#sensitiveValues()} are masked in every line
 *       given to the {@link LogSink} (use {@link SensitiveMasker}).
 *   <li>A transport knows nothing of pools, rules or leases.
 * </ul>
 */
public interface WorkerTransport extends AutoCloseable {

  /**
   * Whether this transport reaches workers with this endpoint (usually: by {@link
   * Endpoint#kind()}).
   */
  boolean supports(Endpoint endpoint);

  /**
   * Checks the worker: connectivity, and the health script if the request carries one. The stage
   * completes with a report (never exceptionally for an unreachable worker: that is an {@code
   * UNAVAILABLE} report). The caller applies its own timeout as well.
   */
  CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request);

  /**
   * Starts the script on the worker and returns at once. Log lines go to {@code sink} as they are
   * produced, in order within each stream, from the transport's threads; the result completes after
   * the last line has been delivered.
   */
  ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink);

  /** Releases connections and threads. Running executions are cancelled. */
  @Override
  default void close() {}
}
