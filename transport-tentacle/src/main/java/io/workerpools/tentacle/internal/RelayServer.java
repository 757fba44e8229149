package io.workerpools.tentacle.internal;

import io.workerpools.relay.NodeRelay;
import io.workerpools.relay.RelayCall;
import io.workerpools.relay.RelayHandler;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The holding side of the node relay for polling agents: announces each subscription that has an
 * authenticated connection here (and withdraws it once none is left, checked every second), and
 * serves the calls other nodes relay for them by queueing them for the local connections, exactly
 * as a call made here would be, then relaying the agent's reply back.
 *
 * <p>A relayed call is peer input: its envelope is checked ({@link RelayEnvelope#decodeRequest}),
 * the subscription must be bound here to the thumbprint the calling node expects, and its collect
 * and reply times are cut to the call's deadline. A call for a subscription this node does not hold
 * still waits here for its collect time (the agent may be reconnecting); it never goes on to a
 * third node.
 */
public final class RelayServer implements RelayHandler, Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(RelayServer.class);

  private final NodeRelay relay;
  private final PollingListener polling;
  private final ScheduledExecutorService timer;
  private final int maxFrameBytes;
  private final Set<String> held = ConcurrentHashMap.newKeySet();
  private final ScheduledFuture<?> reconcile;

  /** Serves relayed calls for {@code polling}'s subscriptions and announces them. */
  public RelayServer(
      NodeRelay relay, PollingListener polling, ScheduledExecutorService timer, int maxFrameBytes) {
    this.relay = relay;
    this.polling = polling;
    this.timer = timer;
    this.maxFrameBytes = maxFrameBytes;
    polling.onAuthenticated(this::connected);
    relay.serve(this);
    this.reconcile = timer.scheduleWithFixedDelay(this::reconcile, 1, 1, TimeUnit.SECONDS);
  }

  private void connected(String subscription) {
    if (held.add(subscription)) {
      relay.announce(RelayEnvelope.address(subscription));
    }
  }

  /** Withdraws subscriptions with no open connection left; re-announces the rest. */
  void reconcile() {
    try {
      Map<String, Integer> open = new HashMap<>(polling.connectionCounts());
      for (String s : held) {
        if (open.getOrDefault(s, 0) == 0) {
          held.remove(s);
          relay.withdraw(RelayEnvelope.address(s));
        }
      }
      for (String s : open.keySet()) {
        connected(s);
      }
    } catch (RuntimeException e) {
      LOG.warn("cannot reconcile the relay's announcements: {}", e.toString());
    }
  }

  @Override
  public CompletionStage<byte[]> handle(RelayCall call) {
    RelayEnvelope.Request r;
    try {
      r = RelayEnvelope.decodeRequest(call.address(), call.payload(), maxFrameBytes);
    } catch (ProtocolViolationException e) {
      LOG.warn("refused a relayed call {}: {}", call.id(), e.getMessage());
      return done(RelayEnvelope.reply(RelayEnvelope.REFUSED, e.getMessage()));
    }
    String sub = r.header().subscription();
    String bound = polling.binding(sub);
    String expected =
        io.workerpools.tentacle.TentacleCertificate.normalizeThumbprint(
            "thumbprint", r.header().thumbprint());
    if (bound == null || !bound.equals(expected)) {
      return done(
          RelayEnvelope.reply(
              RelayEnvelope.REFUSED,
              bound == null
                  ? "subscription '" + sub + "' is not registered on this node"
                  : "subscription '" + sub + "' is bound to another agent thumbprint here"));
    }
    long left = Duration.between(Instant.now(), call.deadline()).toMillis();
    if (left <= 0) {
      return done(RelayEnvelope.reply(RelayEnvelope.NOT_COLLECTED, "the deadline had passed"));
    }
    long collect = Math.min(r.header().collectMillis(), left);
    long reply = Math.min(r.header().replyMillis(), left);
    PollingListener.Pending p =
        polling.send(sub, r.frame(), Duration.ofMillis(collect), Duration.ofMillis(reply));
    CompletableFuture<byte[]> out = new CompletableFuture<>();
    ScheduledFuture<?> giveUp;
    try {
      giveUp =
          timer.schedule(
              () -> {
                if (!p.collected()) {
                  p.cancel(); // never delivered: take it back
                }
              },
              left,
              TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      p.cancel();
      return done(RelayEnvelope.reply(RelayEnvelope.NOT_COLLECTED, "the transport is closing"));
    }
    p.reply()
        .whenComplete(
            (frame, x) -> {
              giveUp.cancel(false);
              out.complete(encode(frame, x));
            });
    return out;
  }

  private static byte[] encode(byte[] frame, Throwable x) {
    if (x == null) {
      return RelayEnvelope.reply(RelayEnvelope.OK, frame);
    }
    Throwable t = x instanceof ExecutionException && x.getCause() != null ? x.getCause() : x;
    if (t instanceof java.util.concurrent.CancellationException) {
      return RelayEnvelope.reply(RelayEnvelope.NOT_COLLECTED, "not collected by its deadline");
    }
    String m = String.valueOf(t.getMessage());
    if (t instanceof PeerConnection.ConnectFailure) {
      return RelayEnvelope.reply(RelayEnvelope.NOT_COLLECTED, m);
    }
    if (t instanceof IOException) {
      return RelayEnvelope.reply(RelayEnvelope.FAILED, m);
    }
    return RelayEnvelope.reply(RelayEnvelope.FAILED, t.toString());
  }

  private static CompletionStage<byte[]> done(byte[] b) {
    return CompletableFuture.completedFuture(b);
  }

  /** Stops announcing. */
  @Override
  public void close() {
    reconcile.cancel(false);
    for (String s : held) {
      relay.withdraw(RelayEnvelope.address(s));
    }
    held.clear();
  }
}
