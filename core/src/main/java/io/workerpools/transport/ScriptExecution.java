package io.workerpools.transport;

import java.util.concurrent.CompletionStage;

/** A script started through a {@link WorkerTransport}. */
public interface ScriptExecution {
  /** The id of the request this execution runs. */
  String executionId();

  /**
   * Completes once, after the last log line, with the script's result. Never completes
   * exceptionally.
   */
  CompletionStage<ScriptResult> result();

  /**
   * Asks the transport to stop the script and the whole process tree it started. Idempotent;
   * returns at once. The result then says {@link ScriptResult.Outcome#CANCELLED} (unless the script
   * had already finished).
   */
  void cancel();
}
