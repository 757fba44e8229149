package io.workerpools.examples;

import io.workerpools.transport.LineSplitter;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.SensitiveMasker;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * One script in one container of a {@link ContainerTransport}: the script written to the client's
 * stdin, both streams through the shared line splitter, the engine asked to kill the container on
 * cancel or timeout, the work directory removed at the end.
 */
final class ContainerExecution implements ScriptExecution {
  private final String cli;
  private final ExecutorService io;
  private final Consumer<ContainerExecution> onEnd;

  final ScriptRequest request;
  final LogSink sink;
  final SensitiveMasker masker;
  final String name;
  final Path workDir;
  final long startNanos = System.nanoTime();
  final CompletableFuture<ScriptResult> result = new CompletableFuture<>();
  final AtomicReference<ScriptResult.Outcome> stopReason = new AtomicReference<>();
  volatile Process process;
  volatile ScheduledFuture<?> timeout;

  ContainerExecution(
      String cli,
      Path workRoot,
      ExecutorService io,
      ScriptRequest request,
      LogSink sink,
      Consumer<ContainerExecution> onEnd) {
    this.cli = cli;
    this.io = io;
    this.onEnd = onEnd;
    this.request = request;
    this.sink = sink;
    this.masker = request.masker();
    String safeId = request.executionId().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_.-]", "-");
    this.name =
        "wp-"
            + safeId.substring(0, Math.min(40, safeId.length()))
            + "-"
            + UUID.randomUUID().toString().substring(0, 8);
    this.workDir = workRoot.resolve(name);
  }

  Duration elapsed() {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  /** Writes the script to stdin, reads both streams, completes when all of it is done. */
  void pump() {
    Process p = process;
    CompletableFuture<Void> out =
        CompletableFuture.runAsync(() -> read(p.getInputStream(), LogLine.Source.STDOUT), io);
    CompletableFuture<Void> err =
        CompletableFuture.runAsync(() -> read(p.getErrorStream(), LogLine.Source.STDERR), io);
    CompletableFuture.runAsync(
        () -> {
          try (OutputStream stdin = p.getOutputStream()) {
            stdin.write(request.body().getBytes(StandardCharsets.UTF_8));
            stdin.write('\n');
          } catch (IOException e) {
            // The container ended before reading the whole script; its exit code tells why.
          }
        },
        io);
    CompletableFuture.allOf(out, err, p.onExit()).whenComplete((v, t) -> ended(p));
  }

  /** Through the shared splitter: bounded lines, UTF-8 safe, masked, secrets never cut. */
  private void read(InputStream in, LogLine.Source source) {
    LineSplitter lines =
        LineSplitter.masking(
            LineSplitter.DEFAULT_MAX_LINE_BYTES, masker, text -> deliver(source, text));
    try (in) {
      lines.pump(in);
    } catch (IOException e) {
      // The stream closed under us (the process was killed): hand on what was read.
      lines.finish();
    }
  }

  private void deliver(LogLine.Source source, String text) {
    synchronized (this) { // one line at a time, whichever stream it came from
      try {
        sink.onLine(new LogLine(Instant.now(), source, text));
      } catch (RuntimeException e) {
        // A failing sink must not stop the script; the line is lost.
      }
    }
  }

  private void ended(Process p) {
    ScheduledFuture<?> t = timeout;
    if (t != null) {
      t.cancel(false);
    }
    ScriptResult.Outcome stop = stopReason.get();
    int code = p.exitValue();
    if (stop == ScriptResult.Outcome.CANCELLED) {
      finish(ScriptResult.of(stop, elapsed(), "cancelled; container " + name + " killed"));
    } else if (stop == ScriptResult.Outcome.TIMED_OUT) {
      finish(
          ScriptResult.of(
              stop,
              elapsed(),
              "ran longer than " + request.timeout().orElseThrow() + "; container killed"));
    } else if (code == ContainerTransport.ENGINE_ERROR_EXIT_CODE) {
      finish(
          ScriptResult.of(
              ScriptResult.Outcome.COULD_NOT_START,
              elapsed(),
              "'" + cli + " run' could not run the container (exit " + code + ")"));
    } else {
      finish(ScriptResult.exited(code, elapsed()));
    }
  }

  void finish(ScriptResult r) {
    if (!request.keepWorkingDirectory()) {
      deleteTree(workDir);
    }
    onEnd.accept(this);
    result.complete(r);
  }

  void timedOut() {
    stop(ScriptResult.Outcome.TIMED_OUT);
  }

  @Override
  public void cancel() {
    stop(ScriptResult.Outcome.CANCELLED);
  }

  private void stop(ScriptResult.Outcome why) {
    Process p = process;
    if (p == null || result.isDone() || !stopReason.compareAndSet(null, why)) {
      return;
    }
    io.execute(
        () -> {
          // The engine stops the container and everything in it; the client would not.
          boolean killed = killContainer();
          p.destroyForcibly();
          if (!killed) {
            // Cancelled before the engine had created the container: once the client is gone,
            // ask again, so a container created meanwhile does not run on unwatched.
            p.onExit().thenRunAsync(this::killContainer, io);
          }
        });
  }

  /** Runs {@code <cli> kill <name>}; true if the engine says it killed the container. */
  private boolean killContainer() {
    try {
      Process kill =
          new ProcessBuilder(cli, "kill", name)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!kill.waitFor(30, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
        return false;
      }
      return kill.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public String executionId() {
    return request.executionId();
  }

  @Override
  public CompletionStage<ScriptResult> result() {
    return result;
  }

  /** Removes a directory tree, best effort. */
  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // Best effort: a leftover temp directory is not worth failing a step for.
    }
  }
}
