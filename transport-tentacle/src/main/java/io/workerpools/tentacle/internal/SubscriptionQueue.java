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

  /**
   * An idle connection unused for longer is proved alive (a heartbeat) before it takes a request.
   */
  static final long PROBE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(5);

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
    p.collectDeadlineNanos = System.nanoTime() + collectTimeout.toNanos();
    enqueue(p, collectTimeout, false);
  }

  /**
   * Hands {@code p} to an idle connection, or queues it (at the front when {@code again}: it was
   * taken back from a connection found dead before it was written) until its collect deadline.
   */
  private void enqueue(PollingListener.Pending p, Duration collectTimeout, boolean again) {
    PeerConnection c;
    synchronized (this) {
      c = takeIdle();
      if (c == null) {
        p.collectedBy = null;
        if (again) {
          pending.addFirst(p);
        } else {
          pending.addLast(p);
        }
        long left = Math.max(0, p.collectDeadlineNanos - System.nanoTime());
        p.collectTimer =
            timer.schedule(() -> collectTimedOut(p, collectTimeout), left, TimeUnit.NANOSECONDS);
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
      // Newest first: after a cut, the agent's fresh connections are used before the old ones,
      // which heartbeats or a probe then find dead.
      PeerConnection c = idle.pollLast();
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
          if (c.suspected() || c.idleNanos() > PROBE_AFTER_NANOS) {
            try {
              c.exchange(HEARTBEAT, heartbeat.plusSeconds(10)); // proves it alive first
            } catch (IOException e) {
              LOG.info(
                  "dropped a dead polling connection of '{}': {}", subscription, e.getMessage());
              owner.drop(c);
              suspectIdle();
              if (p.reply.isDone()) {
                return;
              }
              // The request was never written to it: give it to another connection.
              enqueue(p, Duration.ofNanos(p.collectDeadlineNanos - System.nanoTime()), true);
              return;
            }
          }
          try {
            byte[] r = c.exchange(p.request, p.replyTimeout);
            p.reply.complete(r);
            idle(c);
          } catch (IOException e) {
            owner.drop(c);
            suspectIdle(); // a cut usually takes every connection of the agent
            p.reply.completeExceptionally(
                c.lastRequestUnwritten()
                    ? new PeerConnection.ConnectFailure(
                        "the polling connection of '"
                            + subscription
                            + "' was found dead before the request was written: "
                            + e.getMessage(),
                        e)
                    : new IOException(
                        "the polling connection of '"
                            + subscription
                            + "' failed after it collected the request: "
                            + e.getMessage(),
                        e));
          }
        });
  }

  /** Marks every idle connection to be proved alive before its next request. */
  private synchronized void suspectIdle() {
    idle.forEach(PeerConnection::suspect);
  }

  synchronized int idleCount() {
    return idle.size();
  }
}
