package io.workerpools.tentacle.internal;

import io.workerpools.ConfigurationException;
import io.workerpools.tentacle.TentacleCertificate;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's polling port. Polling agents connect here and say which subscription they serve; the
 * subscription must be bound to the thumbprint the agent presented. Each subscription has one
 * queue: requests wait in it until an idle connection of that subscription collects them (or the
 * collect timeout passes); idle connections wait in it until a request comes (or the heartbeat
 * interval passes, when a heartbeat is exchanged to keep the connection and prove it alive).
 *
 * <p>Threads: one acceptor; handshakes, request/reply exchanges and heartbeats run on the given
 * bounded I/O pool; timers on the given scheduler. An idle connection holds no thread.
 */
public final class PollingListener implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(PollingListener.class);
  private static final byte[] HEARTBEAT = Wire.request("heartbeat", new Messages.Empty());

  private final SSLServerSocket server;
  private final ExecutorService io;
  private final ScheduledExecutorService timer;
  private final Duration heartbeat;
  private final int maxFrameBytes;
  private final Map<String, String> bindings = new ConcurrentHashMap<>();
  private final Map<String, SubscriptionQueue> queues = new ConcurrentHashMap<>();
  private final Set<PeerConnection> all = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean closed;

  /** A request waiting for collection or for its reply. */
  public final class Pending {
    final byte[] request;
    final Duration replyTimeout;
    final CompletableFuture<byte[]> reply = new CompletableFuture<>();
    final SubscriptionQueue queue;
    PeerConnection collectedBy;
    ScheduledFuture<?> collectTimer;

    Pending(byte[] request, Duration replyTimeout, SubscriptionQueue queue) {
      this.request = request;
      this.replyTimeout = replyTimeout;
      this.queue = queue;
    }

    /** The reply frame; fails with a {@link PeerConnection.ConnectFailure} on collect timeout. */
    public CompletableFuture<byte[]> reply() {
      return reply;
    }

    /**
     * Cancels: before collection the request is never delivered; after it, the connection that
     * carries it is dropped.
     */
    public void cancel() {
      PeerConnection c;
      synchronized (queue) {
        if (collectedBy == null) {
          queue.pending.remove(this);
          if (collectTimer != null) {
            collectTimer.cancel(false);
          }
          reply.cancel(false);
          return;
        }
        c = collectedBy;
      }
      reply.cancel(false);
      c.close();
    }

    /** Whether an agent connection has taken the request. */
    public boolean collected() {
      synchronized (queue) {
        return collectedBy != null;
      }
    }
  }

  private final class SubscriptionQueue {
    final String subscription;
    final ArrayDeque<Pending> pending = new ArrayDeque<>();
    final ArrayDeque<PeerConnection> idle = new ArrayDeque<>();
    final Map<PeerConnection, ScheduledFuture<?>> heartbeats = new ConcurrentHashMap<>();

    SubscriptionQueue(String subscription) {
      this.subscription = subscription;
    }

    void offer(Pending p, Duration collectTimeout) {
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

    private void collectTimedOut(Pending p, Duration collectTimeout) {
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
                  + server.getLocalPort()
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
      if (closed || c.isClosed()) {
        drop(c);
        return;
      }
      Pending p;
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
      execute(
          c,
          () -> {
            try {
              c.exchange(HEARTBEAT, heartbeat.plusSeconds(10));
              idle(c);
            } catch (IOException e) {
              LOG.info("dropped a polling connection of '{}': {}", subscription, e.getMessage());
              drop(c);
            }
          });
    }

    private void dispatch(PeerConnection c, Pending p) {
      execute(
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
              drop(c);
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

  /** Binds the polling port. */
  public PollingListener(
      TentacleCertificate own,
      InetSocketAddress bind,
      ExecutorService io,
      ScheduledExecutorService timer,
      Duration heartbeat,
      int maxFrameBytes) {
    this.io = io;
    this.timer = timer;
    this.heartbeat = heartbeat;
    this.maxFrameBytes = maxFrameBytes;
    SSLContext ssl = PinnedTls.context(own, () -> new HashSet<>(bindings.values()));
    try {
      server = (SSLServerSocket) ssl.getServerSocketFactory().createServerSocket();
      server.setReuseAddress(true);
      server.bind(bind, 256);
      server.setNeedClientAuth(true);
      server.setEnabledProtocols(PinnedTls.PROTOCOLS);
    } catch (IOException e) {
      throw new ConfigurationException("pollingListener", "cannot listen on " + bind + ": " + e, e);
    }
    acceptor = new Thread(this::acceptLoop, "tentacle-polling-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The bound address. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /**
   * Binds a subscription to the agent thumbprint allowed to serve it.
   *
   * @throws ConfigurationException if it is already bound to another thumbprint
   */
  public void bind(String subscription, String thumbprint) {
    String prev = bindings.putIfAbsent(subscription, thumbprint);
    if (prev != null && !prev.equals(thumbprint)) {
      throw new ConfigurationException(
          "endpoint.properties.thumbprint",
          "subscription '"
              + subscription
              + "' is bound to agent thumbprint "
              + prev
              + " and cannot be served by "
              + thumbprint);
    }
  }

  /** Queues a request for a subscription. */
  public Pending send(
      String subscription, byte[] request, Duration collectTimeout, Duration replyTimeout) {
    SubscriptionQueue q = queues.computeIfAbsent(subscription, SubscriptionQueue::new);
    Pending p = new Pending(request, replyTimeout, q);
    q.offer(p, collectTimeout);
    return p;
  }

  /** Idle connections of a subscription (for tests and monitoring). */
  public int idleConnections(String subscription) {
    SubscriptionQueue q = queues.get(subscription);
    return q == null ? 0 : q.idleCount();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (closed || server.isClosed()) {
          return;
        }
        LOG.warn("polling accept failed: {}", e.toString());
        continue;
      }
      try {
        io.execute(() -> handshake((SSLSocket) s));
      } catch (RejectedExecutionException e) {
        closeQuietly(s);
      }
    }
  }

  private void execute(PeerConnection c, Runnable r) {
    try {
      io.execute(r);
    } catch (RejectedExecutionException e) {
      drop(c);
    }
  }

  private void handshake(SSLSocket s) {
    try {
      s.setTcpNoDelay(true);
      s.setKeepAlive(true);
      s.setSoTimeout(10_000);
      s.startHandshake();
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      String hello = Frames.readLine(in);
      if (!hello.startsWith("POLL ")) {
        Frames.writeLine(out, Frames.PROTOCOL + " ERROR expected POLL <subscription>");
        closeQuietly(s);
        return;
      }
      String sub = hello.substring(5).trim();
      PeerConnection c = new PeerConnection(s, in, out, maxFrameBytes);
      String bound = bindings.get(sub);
      if (bound == null || !bound.equals(c.peerThumbprint())) {
        String why =
            bound == null
                ? "subscription '" + sub + "' is not registered on this host"
                : "subscription '"
                    + sub
                    + "' is bound to thumbprint "
                    + bound
                    + " but the agent presented "
                    + c.peerThumbprint();
        LOG.warn("refused a polling agent from {}: {}", s.getRemoteSocketAddress(), why);
        Frames.writeLine(out, Frames.PROTOCOL + " ERROR " + why);
        c.close();
        return;
      }
      Frames.writeLine(out, Frames.PROTOCOL + " OK heartbeat=" + heartbeat.toMillis());
      all.add(c);
      queues.computeIfAbsent(sub, SubscriptionQueue::new).idle(c);
    } catch (IOException e) {
      PinnedTls.UntrustedPeerException u = PinnedTls.untrusted(e);
      if (u != null) {
        LOG.warn(
            "refused a polling connection from {}: {}", s.getRemoteSocketAddress(), u.getMessage());
      }
      closeQuietly(s);
    }
  }

  private void drop(PeerConnection c) {
    all.remove(c);
    c.close();
  }

  private static void closeQuietly(Closeable s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(server);
    all.forEach(PeerConnection::close);
    for (SubscriptionQueue q : queues.values()) {
      synchronized (q) {
        for (Pending p : q.pending) {
          p.reply.completeExceptionally(new IOException("the polling listener closed"));
        }
        q.pending.clear();
      }
    }
  }
}
