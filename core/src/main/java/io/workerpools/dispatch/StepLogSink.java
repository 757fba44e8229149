package io.workerpools.dispatch;

import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;

/**
 * Receives the log lines of steps run by a {@link StepDispatcher}. Called from transport threads;
 * for one step never concurrently, lines of different steps may arrive concurrently. Must be quick
 * and must not block.
 */
@FunctionalInterface
public interface StepLogSink {
  void onLine(StepLogLine line);

  /** Drops everything. */
  static StepLogSink discard() {
    return line -> {};
  }

  /** Forwards to a plain {@link LogSink}, each text prefixed with {@code [step@worker] }. */
  static StepLogSink prefixed(LogSink sink) {
    return l -> sink.onLine(new LogLine(l.line().time(), l.line().source(), l.prefixedText()));
  }
}
