package io.workerpools.container.internal;

import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;

/**
 * The step's sink, less the wrapper's marker lines, which it reads instead: whether the container
 * started, whether an engine or the image was missing. Lines arrive already split and masked by the
 * transport. Called from the transport's threads; the flags are volatile.
 */
public final class ContainerOutput implements LogSink {
  private final LogSink sink;
  private final String prefix;
  private volatile boolean started;
  private volatile boolean noEngine;
  private volatile boolean noImage;

  public ContainerOutput(LogSink sink, String marker) {
    this.sink = sink;
    this.prefix = marker + " ";
  }

  @Override
  public void onLine(LogLine line) {
    if (line.source() == LogLine.Source.STDERR && line.text().startsWith(prefix)) {
      switch (line.text().substring(prefix.length())) {
        case "started" -> started = true;
        case "no-engine" -> noEngine = true;
        case "no-image" -> noImage = true;
        default -> sink.onLine(line);
      }
      return;
    }
    sink.onLine(line);
  }

  /** Whether the entry program ran in the container (so the exit code is the script's). */
  public boolean started() {
    return started;
  }

  /** Whether the worker has neither docker nor podman. */
  public boolean noEngine() {
    return noEngine;
  }

  /** Whether the image was not on the worker after the engine failed. */
  public boolean noImage() {
    return noImage;
  }
}
