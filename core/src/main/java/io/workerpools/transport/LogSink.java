package io.workerpools.transport;

/**
 * Receives a running script's output, line by line. Called from transport threads (for one
 * execution, never concurrently); must be quick and must not block: hand lines off if you write
 * them somewhere slow. Lines arrive already masked.
 */
@FunctionalInterface
public interface LogSink {
  /** One line of output, without its line terminator. */
  void onLine(LogLine line);

  /** A sink that drops everything. */
  static LogSink discard() {
    return line -> {};
  }
}
