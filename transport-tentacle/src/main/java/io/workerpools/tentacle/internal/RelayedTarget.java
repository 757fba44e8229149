package io.workerpools.tentacle.internal;

import io.workerpools.ConfigurationException;
import io.workerpools.model.WorkerId;
import io.workerpools.relay.NodeRelay;
import io.workerpools.relay.RelayCall;
import io.workerpools.relay.RelayException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A polling agent's calls on a transport with a node relay. While the agent has a connection to
 * this node, calls go to it as without a relay. Otherwise the node that announces the agent gets
 * the call through the relay and sends back the agent's reply. With neither, the request waits here
 * in short, growing slices (100 ms doubling to 2 s), looking for a holder between them, until its
 * collect timeout: a request that nobody collected was never delivered, so trying again elsewhere
 * is safe.
 */
public final class RelayedTarget implements Target {
  private static final Logger LOG = LoggerFactory.getLogger(RelayedTarget.class);

  /** What a relayed call's deadline allows past its collect and reply times. */
  static final Duration MARGIN = Duration.ofSeconds(2);

  /** How soon the holding node must take a relayed call (a live one takes it in milliseconds). */
  static final Duration TAKE_BY = Duration.ofSeconds(3);

  private final PollingListener local;
  private final NodeRelay relay;
  private final String subscription;
  private final String address;
  private final String thumbprint;
  private final WorkerId worker;
  private final int maxFrameBytes;

  /**
   * @param local this node's polling port, or null if it has none
   */
  public RelayedTarget(
      PollingListener local,
      NodeRelay relay,
      String subscription,
      String thumbprint,
      WorkerId worker,
      int maxFrameBytes) {
    this.local = local;
    this.relay = relay;
    this.subscription = subscription;
    this.address = RelayEnvelope.address(subscription);
    this.thumbprint = thumbprint;
    this.worker = worker;
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  public byte[] exchange(byte[] request, Duration replyTimeout, Duration collectTimeout)
      throws IOException {
    long collectDeadline = System.nanoTime() + collectTimeout.toNanos();
    long slice = 100;
    IOException last = null;
    while (true) {
      long left = TimeUnit.NANOSECONDS.toMillis(collectDeadline - System.nanoTime());
      if (left <= 0 && last != null) {
        throw last;
      }
      left = Math.max(left, 1);
      if (local != null && local.connections(subscription) > 0) {
        return Targets.queued(local, subscription, request, Duration.ofMillis(left), replyTimeout);
      }
      Optional<String> holder = holder();
      long wait = Math.min(slice, left);
      slice = Math.min(2000, slice * 2);
      if (holder.isPresent()) {
        try {
          return relayed(holder.get(), request, replyTimeout, left);
        } catch (PeerConnection.ConnectFailure e) {
          last = e; // never delivered: look again
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.min(wait, left)));
        }
      } else if (local != null) {
        try {
          return Targets.queued(
              local, subscription, request, Duration.ofMillis(wait), replyTimeout);
        } catch (PeerConnection.ConnectFailure e) {
          last = notCollected(collectTimeout);
        }
      } else {
        last = notCollected(collectTimeout);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(wait));
      }
    }
  }

  private PeerConnection.ConnectFailure notCollected(Duration collectTimeout) {
    return new PeerConnection.ConnectFailure(
        "the polling agent for subscription '"
            + subscription
            + "' did not collect the request within "
            + collectTimeout.toMillis()
            + " ms on this node"
            + (local == null ? " (it has no polling port)" : "")
            + ", and no other node announced it through the relay: is the agent running, and can"
            + " it reach a host node's polling port?",
        null);
  }

  private Optional<String> holder() {
    try {
      return relay.holder(address);
    } catch (RelayException e) {
      LOG.debug("no relay holder for {}: {}", address, e.getMessage());
      return Optional.empty();
    }
  }

  private byte[] relayed(String node, byte[] request, Duration replyTimeout, long collectMillis)
      throws IOException {
    long replyMillis = Math.max(1, replyTimeout.toMillis());
    byte[] payload =
        RelayEnvelope.request(
            new RelayEnvelope.Header(1, subscription, thumbprint, collectMillis, replyMillis),
            request);
    Duration total = Duration.ofMillis(collectMillis + replyMillis).plus(MARGIN);
    RelayCall call;
    Instant now = Instant.now();
    try {
      call =
          RelayCall.builder()
              .address(address)
              .payload(payload)
              .deadline(now.plus(total))
              .takeBy(now.plusMillis(Math.min(TAKE_BY.toMillis(), Math.max(250, collectMillis))))
              .build();
    } catch (ConfigurationException e) {
      throw new IOException(e.getMessage(), e);
    }
    byte[] reply;
    try {
      reply =
          relay
              .call(node, call)
              .toCompletableFuture()
              .get(total.plus(MARGIN).toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for node " + node, e);
    } catch (TimeoutException e) {
      throw new IOException("node " + node + " sent no reply by the call's deadline", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RelayException r) {
        if (r.reason() == RelayException.Reason.PAYLOAD_TOO_LARGE) {
          throw new ProtocolViolationException(
              "worker "
                  + worker
                  + ": the request is too large for the node relay: "
                  + r.getMessage(),
              false);
        }
        if (!r.mayHaveBeenDelivered()) {
          throw new PeerConnection.ConnectFailure(
              "relay to node " + node + ": " + r.getMessage(), r);
        }
        throw new IOException("relay to node " + node + ": " + r.getMessage(), r);
      }
      throw new IOException("relay to node " + node + ": " + c, c);
    }
    return RelayEnvelope.decodeReply(reply, maxFrameBytes, node);
  }

  @Override
  public PeerConnection direct() {
    throw new ConfigurationException(
        "worker " + worker, "file transfer to polling agents is not supported yet");
  }

  @Override
  public void release(PeerConnection c) {}

  @Override
  public boolean polling() {
    return true;
  }
}
