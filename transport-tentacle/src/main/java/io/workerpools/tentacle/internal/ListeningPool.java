package io.workerpools.tentacle.internal;

import io.workerpools.tentacle.TentacleCertificate;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;

/**
 * Pooled connections to listening agents, per address and pinned thumbprint. A connection idle
 * longer than the probe interval is pinged before reuse (a cheap probe); a failed probe discards
 * it. One SSL context per pinned thumbprint, so TLS sessions resume.
 */
public final class ListeningPool implements Closeable {
  private static final byte[] PING = Wire.request("ping", new Messages.Empty());

  private final TentacleCertificate own;
  private final Duration connectTimeout;
  private final long probeAfterNanos;
  private final int maxIdlePerAgent;
  private final int maxFrameBytes;
  private final Map<String, SSLContext> contexts = new ConcurrentHashMap<>();
  private final Map<String, Deque<PeerConnection>> idle = new ConcurrentHashMap<>();
  private final java.util.concurrent.ScheduledExecutorService timer;
  private final java.util.concurrent.atomic.AtomicLong opened =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean closed;

  public ListeningPool(
      TentacleCertificate own,
      Duration connectTimeout,
      Duration probeAfter,
      int maxIdlePerAgent,
      int maxFrameBytes) {
    this(own, connectTimeout, probeAfter, maxIdlePerAgent, maxFrameBytes, SharedTimer.get());
  }

  /** As above, with the timer that enforces connect deadlines. */
  public ListeningPool(
      TentacleCertificate own,
      Duration connectTimeout,
      Duration probeAfter,
      int maxIdlePerAgent,
      int maxFrameBytes,
      java.util.concurrent.ScheduledExecutorService timer) {
    this.timer = timer;
    this.own = own;
    this.connectTimeout = connectTimeout;
    this.probeAfterNanos = probeAfter.toNanos();
    this.maxIdlePerAgent = maxIdlePerAgent;
    this.maxFrameBytes = maxFrameBytes;
  }

  private static String key(InetSocketAddress a, String thumbprint) {
    return a.getHostString() + ":" + a.getPort() + "/" + thumbprint;
  }

  /** The SSL context pinned to one agent thumbprint. */
  public SSLContext context(String thumbprint) {
    return contexts.computeIfAbsent(thumbprint, t -> PinnedTls.context(own, () -> Set.of(t)));
  }

  /** A pooled (probed) or new connection. */
  public PeerConnection acquire(InetSocketAddress address, String thumbprint)
      throws PeerConnection.ConnectFailure {
    if (closed) {
      throw new PeerConnection.ConnectFailure("the transport is closed", null);
    }
    Deque<PeerConnection> q = idle.get(key(address, thumbprint));
    while (q != null) {
      PeerConnection c;
      synchronized (q) {
        c = q.pollFirst();
      }
      if (c == null) {
        break;
      }
      if (c.isClosed()) {
        continue;
      }
      if (c.idleNanos() < probeAfterNanos && !c.suspected()) {
        return c;
      }
      try {
        c.exchange(PING, connectTimeout);
        return c;
      } catch (IOException e) {
        c.close();
      }
    }
    opened.incrementAndGet();
    return PeerConnection.open(
        context(thumbprint), address, own.thumbprint(), connectTimeout, maxFrameBytes, timer);
  }

  /** A new connection, never a pooled one (the retry after a pooled connection died). */
  public PeerConnection fresh(InetSocketAddress address, String thumbprint)
      throws PeerConnection.ConnectFailure {
    if (closed) {
      throw new PeerConnection.ConnectFailure("the transport is closed", null);
    }
    opened.incrementAndGet();
    return PeerConnection.open(
        context(thumbprint), address, own.thumbprint(), connectTimeout, maxFrameBytes, timer);
  }

  /**
   * Marks every pooled connection to this agent to be pinged before reuse: one of them just died,
   * and a cut (a proxy, a restart) takes them all.
   */
  public void suspectAll(InetSocketAddress address, String thumbprint) {
    Deque<PeerConnection> q = idle.get(key(address, thumbprint));
    if (q != null) {
      synchronized (q) {
        q.forEach(PeerConnection::suspect);
      }
    }
  }

  /** Returns a healthy connection to the pool. */
  public void release(InetSocketAddress address, String thumbprint, PeerConnection c) {
    if (closed || c.isClosed()) {
      c.close();
      return;
    }
    Deque<PeerConnection> q =
        idle.computeIfAbsent(key(address, thumbprint), k -> new ArrayDeque<>());
    synchronized (q) {
      if (q.size() < maxIdlePerAgent) {
        q.addFirst(c); // most recently used first: the warmest connection is reused
        return;
      }
    }
    c.close();
  }

  /** How many connections were opened (attempted) so far, successful or not. */
  public long opened() {
    return opened.get();
  }

  /** How many idle connections are pooled for this agent. */
  public int idleCount(InetSocketAddress address, String thumbprint) {
    Deque<PeerConnection> q = idle.get(key(address, thumbprint));
    if (q == null) {
      return 0;
    }
    synchronized (q) {
      return q.size();
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Deque<PeerConnection> q : idle.values()) {
      synchronized (q) {
        q.forEach(PeerConnection::close);
        q.clear();
      }
    }
  }
}
