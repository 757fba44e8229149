package io.workerpools.dispatch;

import io.workerpools.model.WorkerId;
import io.workerpools.transport.LogLine;
import java.util.Objects;

/**
 * A log line of a running step, with the step and worker it came from.
 *
 * @param stepId the step
 * @param worker the worker the step runs on
 * @param line the line, already masked
 */
public record StepLogLine(String stepId, WorkerId worker, LogLine line) {
  public StepLogLine {
    Objects.requireNonNull(stepId, "stepId");
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(line, "line");
  }

  /** The line's text prefixed with step and worker: {@code [deploy-web@built-in] text}. */
  public String prefixedText() {
    return "[" + stepId + "@" + worker.value() + "] " + line.text();
  }

  @Override
  public String toString() {
    return line.time() + " " + line.source() + " " + prefixedText();
  }
}
