package io.workerpools.testing;

import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A {@link LogSink} for tests: keeps every line, checks the sink contract (never called
 * concurrently for one execution), and lets a test wait for a line.
 */
public final class CollectingSink implements LogSink {
  private final List<LogLine> lines = new ArrayList<>();
  private final AtomicInteger inside = new AtomicInteger();
  private volatile boolean calledConcurrently;

  @Override
  public void onLine(LogLine line) {
    if (inside.incrementAndGet() != 1) {
      calledConcurrently = true;
    }
    try {
      synchronized (lines) {
        lines.add(line);
      }
    } finally {
      inside.decrementAndGet();
    }
  }

  /** A copy of every line so far. */
  public List<LogLine> lines() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }

  /** The text of the lines from one stream, in arrival order. */
  public List<String> texts(LogLine.Source source) {
    List<String> out = new ArrayList<>();
    for (LogLine l : lines()) {
      if (l.source() == source) {
        out.add(l.text());
      }
    }
    return out;
  }

  /** The stdout lines, in order. */
  public List<String> stdout() {
    return texts(LogLine.Source.STDOUT);
  }

  /** The stderr lines, in order. */
  public List<String> stderr() {
    return texts(LogLine.Source.STDERR);
  }

  /** Whether the transport ever called this sink from two threads at once. */
  public boolean calledConcurrently() {
    return calledConcurrently;
  }

  /** The first line matching, if any arrived. */
  public Optional<LogLine> find(Predicate<LogLine> p) {
    return lines().stream().filter(p).findFirst();
  }

  /** Waits for a matching line and returns it. */
  public LogLine await(Predicate<LogLine> p, Duration timeout, String description) {
    Await.until(description, timeout, () -> find(p).isPresent());
    return find(p).orElseThrow();
  }

  /** The value after {@code key=} on the first stdout line that starts with it, waiting for it. */
  public String awaitValue(String key, Duration timeout) {
    String prefix = key + "=";
    return await(
            l -> l.source() == LogLine.Source.STDOUT && l.text().startsWith(prefix),
            timeout,
            "a stdout line starting with '" + prefix + "'; lines so far: " + lines())
        .text()
        .substring(prefix.length())
        .trim();
  }
}
