package io.workerpools.tentacle.internal;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One polling subscription's queue on the host (split out of {@link PollingListener}): requests
 * wait in it until an idle connection of the subscription collects them (or the collect timeout
 * passes); idle connections wait in it until a request comes (or the heartbeat interval passes,
 * when a heartbeat is exchanged to keep the connection and prove it alive). Guarded by its own
 * monitor; exchanges run on the listener's I/O pool, timers on its scheduler.
 */
final class SubscriptionQueue {
  private static final Logger LOG = LoggerFactory.getLogger(PollingListener.class);
  private static final byte[] HEARTBEAT = Wire.request("heartbeat", new Messages.Empty());

  final String subscription;
  final ArrayDeque<PollingListener.Pending> pending = new ArrayDeque<>();
  private final ArrayDeque<PeerConnection> idle = new ArrayDeque<>();
  private final Map<PeerConnection, ScheduledFuture<?>> heartbeats = new ConcurrentHashMap<>();
  private final PollingListener owner;
  private final ScheduledExecutorService timer;
  private final Duration heartbeat;

  SubscriptionQueue(
      String subscription,
      PollingListener owner,
      ScheduledExecutorService timer,
      Duration heartbeat) {
    this.subscription = subscription;
    this.owner = owner;
    this.timer = timer;
    this.heartbeat = heartbeat;
  }

  void offer(PollingListener.Pending p, Duration collectTimeout) {
    PeerConnection c;
    synchronized (this) {
      c = takeIdle();
      if (c == null) {
        pending.addLast(p);
        p.collectTimer =
            timer.schedule(
                () -> collectTimedOut(p, collectTimeout),
                collectTimeout.toMillis(),
                TimeUnit.MILLISECONDS);
        return;
      }
      p.collectedBy = c;
    }
    dispatch(c, p);
  }

  private void collectTimedOut(PollingListener.Pending p, Duration collectTimeout) {
    synchronized (this) {
      if (p.collectedBy != null || !pending.remove(p)) {
        return;
      }
    }
    p.reply.completeExceptionally(
        new PeerConnection.ConnectFailure(
            "the polling agent for subscription '"
                + subscription
                + "' did not collect the request within "
                + collectTimeout.toMillis()
                + " ms: is the agent running, and can it reach this host's polling port "
                + owner.port()
                + "?",
            null));
  }

  private PeerConnection takeIdle() {
    while (true) {
      PeerConnection c = idle.pollFirst();
      if (c == null) {
        return null;
      }
      ScheduledFuture<?> hb = heartbeats.remove(c);
      if (hb != null) {
        hb.cancel(false);
      }
      if (!c.isClosed()) {
        return c;
      }
    }
  }

  void idle(PeerConnection c) {
    if (owner.isClosed() || c.isClosed()) {
      owner.drop(c);
      return;
    }
    PollingListener.Pending p;
    synchronized (this) {
      p = pending.pollFirst();
      if (p == null) {
        idle.addLast(c);
        heartbeats.put(
            c, timer.schedule(() -> heartbeat(c), heartbeat.toMillis(), TimeUnit.MILLISECONDS));
        return;
      }
      p.collectedBy = c;
      if (p.collectTimer != null) {
        p.collectTimer.cancel(false);
      }
    }
    dispatch(c, p);
  }

  private void heartbeat(PeerConnection c) {
    synchronized (this) {
      if (!idle.remove(c)) {
        return;
      }
      heartbeats.remove(c);
    }
    owner.execute(
        c,
        () -> {
          try {
            c.exchange(HEARTBEAT, heartbeat.plusSeconds(10));
            idle(c);
          } catch (IOException e) {
            LOG.info("dropped a polling connection of '{}': {}", subscription, e.getMessage());
            owner.drop(c);
          }
        });
  }

  private void dispatch(PeerConnection c, PollingListener.Pending p) {
    owner.execute(
        c,
        () -> {
          if (p.reply.isDone()) {
            idle(c);
            return;
          }
          try {
            byte[] r = c.exchange(p.request, p.replyTimeout);
            p.reply.complete(r);
            idle(c);
          } catch (IOException e) {
            owner.drop(c);
            p.reply.completeExceptionally(
                new IOException(
                    "the polling connection of '"
                        + subscription
                        + "' failed after it collected the request: "
                        + e.getMessage(),
                    e));
          }
        });
  }

  synchronized int idleCount() {
    return idle.size();
  }
}
