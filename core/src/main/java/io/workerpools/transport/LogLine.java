package io.workerpools.transport;

import java.time.Instant;
import java.util.Objects;

/**
 * One line of a script's output.
 *
 * @param time when the transport saw the line
 * @param source which stream it came from
 * @param text the line, masked, without its terminator
 */
public record LogLine(Instant time, Source source, String text) {
  /** Where a line came from. */
  public enum Source {
    STDOUT,
    STDERR,
    /** Written by the transport itself (for example: "waiting for mutex"). */
    DEBUG
  }

  public LogLine {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(text, "text");
  }
}
