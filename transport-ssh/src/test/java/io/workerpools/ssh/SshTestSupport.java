package io.workerpools.ssh;

import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import io.workerpools.testing.Await;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Helpers shared by the SSH tests. */
final class SshTestSupport {
  private SshTestSupport() {}

  /** A credential provider backed by a map the test fills. */
  static final class Credentials implements SshCredentialProvider {
    final Map<String, SshCredentials> byId = new ConcurrentHashMap<>();

    @Override
    public SshCredentials credentials(String credentialsId, Worker worker) {
      SshCredentials c = byId.get(credentialsId);
      if (c == null) {
        throw new IllegalArgumentException("no credentials '" + credentialsId + "'");
      }
      return c;
    }
  }

  /** A sink that keeps every line. */
  static final class Lines implements LogSink {
    private final List<LogLine> lines = new ArrayList<>();

    @Override
    public synchronized void onLine(LogLine line) {
      lines.add(line);
    }

    synchronized List<LogLine> all() {
      return List.copyOf(lines);
    }

    synchronized List<String> texts(LogLine.Source source) {
      List<String> out = new ArrayList<>();
      for (LogLine l : lines) {
        if (l.source() == source) {
          out.add(l.text());
        }
      }
      return out;
    }

    List<String> out() {
      return texts(LogLine.Source.STDOUT);
    }

    List<String> err() {
      return texts(LogLine.Source.STDERR);
    }

    synchronized boolean contains(String text) {
      return lines.stream().anyMatch(l -> l.text().equals(text));
    }
  }

  static Worker worker(String id, Endpoint endpoint) {
    return Worker.builder(id).endpoint(endpoint).pool("ssh-pool").build();
  }

  static Endpoint endpoint(String address, String user, Map<String, String> more) {
    Map<String, String> p = new java.util.HashMap<>(more);
    p.put(SshEndpoint.USER, user);
    return Endpoint.of("ssh", address, p);
  }

  static ScriptResult await(ScriptExecution e, Duration max) {
    try {
      return e.result().toCompletableFuture().get(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception ex) {
      throw new AssertionError("no result within " + max, ex);
    }
  }

  static ScriptResult await(ScriptExecution e) {
    return await(e, Duration.ofSeconds(30));
  }

  /**
   * Polls a condition until it holds or the deadline passes: {@link Await}, in this file's argument
   * order.
   */
  static void awaitUntil(Duration max, BooleanSupplier condition, String what) {
    Await.until(what, max, condition);
  }
}
