package io.workerpools.jdbc.relay;

import io.workerpools.WorkerPoolsException;
import io.workerpools.relay.RelayCall;
import io.workerpools.relay.RelayHandler;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of {@link PostgresRelay}: takes a request addressed to this node, checks what
 * the row holds (it was written by another node: peer input), runs the handler and sends its reply
 * back to the calling node, unless the call's deadline passed meanwhile.
 */
final class Served {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresRelay.class);
  private static final Pattern NODE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  /** How long an unread reply row outlives its call before the sweep deletes it. */
  static final long REPLY_LINGER_MILLIS = 5_000;

  private final RelaySql sql;
  private final String nodeId;
  private final int maxPayload;
  private final Executor pool;
  private volatile RelayHandler handler;

  Served(RelaySql sql, String nodeId, int maxPayload, Executor pool) {
    this.sql = sql;
    this.nodeId = nodeId;
    this.maxPayload = maxPayload;
    this.pool = pool;
  }

  void handler(RelayHandler h) {
    this.handler = h;
  }

  /** Takes request {@code id}, if it is still there, and serves it. */
  void take(String id) throws SQLException {
    Optional<RelaySql.Request> row = sql.claimRequest(id, nodeId);
    if (row.isEmpty()) {
      return; // served already, withdrawn by its caller, or expired
    }
    RelaySql.Request r = row.get();
    if (r.sourceNode() == null || !NODE.matcher(r.sourceNode()).matches()) {
      LOG.warn("dropped relayed call {}: its source node id is not valid", id);
      return; // nobody to answer
    }
    if (r.remainingMs() <= 0) {
      return; // its caller has stopped waiting
    }
    long deadlineNanos = System.nanoTime() + r.remainingMs() * 1_000_000;
    String problem = check(r);
    RelayHandler h = handler;
    if (problem == null && h == null) {
      problem = "node " + nodeId + " serves no relayed calls (no handler is set)";
    }
    if (problem != null) {
      reply(r, null, problem, deadlineNanos);
      return;
    }
    CompletionStage<byte[]> stage;
    try {
      RelayCall call =
          new RelayCall(
              id,
              r.address(),
              r.payload(),
              Instant.now().plus(Duration.ofMillis(r.remainingMs())),
              null);
      stage = h.handle(call);
    } catch (RuntimeException e) {
      reply(r, null, "the handler failed: " + message(e), deadlineNanos);
      return;
    }
    stage.whenCompleteAsync(
        (bytes, x) -> {
          if (x != null) {
            reply(r, null, message(x), deadlineNanos);
          } else if (bytes == null || bytes.length > maxPayload) {
            reply(
                r,
                null,
                "the reply is missing or larger than the relay's bound of " + maxPayload + " bytes",
                deadlineNanos);
          } else {
            reply(r, bytes, null, deadlineNanos);
          }
        },
        pool);
  }

  private String check(RelaySql.Request r) {
    try {
      RelayCall.requireAddress(r.address());
    } catch (WorkerPoolsException e) {
      return e.getMessage();
    }
    if (r.payload() == null || r.payload().length > maxPayload) {
      return "the request is missing or larger than this node's bound of " + maxPayload + " bytes";
    }
    return null;
  }

  private void reply(RelaySql.Request r, byte[] payload, String error, long deadlineNanos) {
    long left = (deadlineNanos - System.nanoTime()) / 1_000_000;
    if (left <= 0) {
      return; // the caller has stopped waiting
    }
    try {
      sql.sendReply(
          r.id(),
          r.sourceNode(),
          PostgresRelay.channelOf(r.sourceNode()),
          payload,
          error == null ? null : PostgresRelay.truncate(error, 2000),
          left + REPLY_LINGER_MILLIS);
    } catch (SQLException e) {
      LOG.warn("cannot send the reply of relayed call {}: {}", r.id(), e.getMessage());
    }
  }

  private static String message(Throwable x) {
    Throwable t = x instanceof CompletionException && x.getCause() != null ? x.getCause() : x;
    return String.valueOf(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
  }
}
