package io.workerpools.dispatch;

import java.util.concurrent.CompletionStage;

/** A step handed to a {@link StepDispatcher}: its result to come, and a way to cancel it. */
public interface StepRun {
  /** The step's id. */
  String stepId();

  /** Completes exactly once, with how the step ended. Never completes exceptionally. */
  CompletionStage<StepResult> result();

  /**
   * Cancels the step wherever it is: waiting for its turn, waiting for a worker, or running (the
   * transport kills the script's process tree). Idempotent; returns at once. A step that had
   * already ended keeps its result.
   */
  void cancel();
}
