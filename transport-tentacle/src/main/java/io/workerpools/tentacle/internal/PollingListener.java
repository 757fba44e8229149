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
import java.util.HashSet;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's polling port. Polling agents connect here and say which subscription they serve; the
 * subscription must be bound to the thumbprint the agent presented. Each subscription has one
 * {@link SubscriptionQueue}: requests wait in it until an idle connection of that subscription
 * collects them (or the collect timeout passes); idle connections wait in it until a request comes
 * (or the heartbeat interval passes, when a heartbeat is exchanged to keep the connection and prove
 * it alive).
 *
 * <p>Threads: one acceptor; TLS handshakes and preambles on their own {@link HandshakeBudget}
 * (never on the I/O pool that serves authenticated traffic: strangers flooding or dripping into the
 * port cannot starve listening agents' calls or polling agents' requests); request/reply exchanges
 * and heartbeats run on the given bounded I/O pool; timers on the given scheduler. An idle
 * connection holds no thread.
 *
 * <p>A subscription's binding can be changed while the host runs ({@link #rebind}, {@link
 * #unbind}): connections of a certificate that no longer serves the subscription are closed at
 * once.
 */
public final class PollingListener implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(PollingListener.class);

  private final SSLServerSocket server;
  private final ExecutorService io;
  private final ScheduledExecutorService timer;
  private final Duration heartbeat;
  private final int maxFrameBytes;
  private final Map<String, String> bindings = new ConcurrentHashMap<>();
  private final Map<String, SubscriptionQueue> queues = new ConcurrentHashMap<>();
  private final Map<PeerConnection, String> all = new ConcurrentHashMap<>();
  private final HandshakeBudget handshakes;
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

  /** The default handshake budget of the polling port. */
  public static final int DEFAULT_MAX_PENDING_HANDSHAKES = 64;

  /** The default handshake deadline of the polling port. */
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

  /**
   * A pool for a listener's connection I/O ({@code threads} threads, idle ones end). It must not be
   * the pool whose threads wait for the replies this I/O reads: a full pool of waiting callers
   * would then wait on itself (found by the B6 scale harness: 64 polling health checks on 32 shared
   * threads, none finished).
   */
  public static ExecutorService ioPool(int threads) {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "tentacle-polling-io-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /**
   * Binds the polling port, with the default handshake budget and deadline. The listener owns
   * {@code io} from now on and shuts it down on {@link #close}; see {@link #ioPool}.
   */
  public PollingListener(
      TentacleCertificate own,
      InetSocketAddress bind,
      ExecutorService io,
      ScheduledExecutorService timer,
      Duration heartbeat,
      int maxFrameBytes) {
    this(
        own,
        bind,
        io,
        timer,
        heartbeat,
        maxFrameBytes,
        DEFAULT_MAX_PENDING_HANDSHAKES,
        DEFAULT_HANDSHAKE_TIMEOUT);
  }

  /**
   * Binds the polling port.
   *
   * @param maxPendingHandshakes the most connections accepted but not yet authenticated (a newer
   *     one evicts the oldest)
   * @param handshakeTimeout the longest from accept to authentication, in all
   */
  public PollingListener(
      TentacleCertificate own,
      InetSocketAddress bind,
      ExecutorService io,
      ScheduledExecutorService timer,
      Duration heartbeat,
      int maxFrameBytes,
      int maxPendingHandshakes,
      Duration handshakeTimeout) {
    this.handshakes = new HandshakeBudget("polling", maxPendingHandshakes, handshakeTimeout);
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
   * Binds a subscription to {@code thumbprint}, replacing any earlier binding; connections of the
   * subscription made with another certificate are closed at once. Returns the previous binding.
   */
  public String rebind(String subscription, String thumbprint) {
    String prev = bindings.put(subscription, thumbprint);
    if (prev != null && !prev.equals(thumbprint)) {
      LOG.info(
          "subscription '{}' is now served by thumbprint {} (was {}); closing the old connections",
          subscription,
          thumbprint,
          prev);
      cut(subscription, thumbprint);
    }
    return prev;
  }

  /**
   * Removes a subscription's binding (revokes its agent): its connections are closed at once and
   * its certificate is refused from now on (unless another subscription is bound to it). Returns
   * the previous binding, or null.
   */
  public String unbind(String subscription) {
    String prev = bindings.remove(subscription);
    cut(subscription, null);
    return prev;
  }

  /** Closes the connections of {@code subscription} not made with {@code keep}. */
  private void cut(String subscription, String keep) {
    all.forEach(
        (c, sub) -> {
          if (sub.equals(subscription) && !c.peerThumbprint().equals(keep)) {
            drop(c);
          }
        });
  }

  /** The thumbprint a subscription is bound to, or null. */
  public String binding(String subscription) {
    return bindings.get(subscription);
  }

  /** Connections still in their handshake (monitoring, tests). */
  public int pendingHandshakes() {
    return handshakes.pending();
  }

  /** Connections closed unauthenticated to make room for newer ones. */
  public long handshakesEvicted() {
    return handshakes.evicted();
  }

  /** Connections closed at their handshake deadline. */
  public long handshakesTimedOut() {
    return handshakes.timedOut();
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
    SubscriptionQueue q = queues.computeIfAbsent(subscription, this::newQueue);
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
      handshakes.admit(s, a -> handshake(a, (SSLSocket) a.socket()));
    }
  }

  private SubscriptionQueue newQueue(String subscription) {
    return new SubscriptionQueue(subscription, this, timer, heartbeat);
  }

  /** The bound port (for messages). */
  int port() {
    return server.getLocalPort();
  }

  /** Whether {@link #close} was called. */
  boolean isClosed() {
    return closed;
  }

  /** Runs {@code r} on the I/O pool; drops {@code c} if the pool refuses it. */
  void execute(PeerConnection c, Runnable r) {
    try {
      io.execute(r);
    } catch (RejectedExecutionException e) {
      drop(c);
    }
  }

  private void handshake(HandshakeBudget.Admission admission, SSLSocket s) {
    try {
      s.setTcpNoDelay(true);
      s.setKeepAlive(true);
      s.setSoTimeout((int) handshakes.timeout().toMillis());
      s.startHandshake();
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      ProtocolVersions.Line line = ProtocolVersions.parse(Frames.readPreamble(in));
      java.util.OptionalInt version = ProtocolVersions.CURRENT.choose(line.min(), line.version());
      if (version.isEmpty()) {
        String why =
            ProtocolVersions.CURRENT.noCommonVersion("host", "agent", line.min(), line.version());
        LOG.warn("refused a polling agent from {}: {}", s.getRemoteSocketAddress(), why);
        Frames.writeLine(out, ProtocolVersions.CURRENT.error(why));
        closeQuietly(s);
        return;
      }
      String hello = line.words();
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
      if (!admission.authenticated()) {
        c.close(); // evicted or timed out just as it finished
        return;
      }
      Frames.writeLine(
          out, ProtocolVersions.ok(version.getAsInt(), "heartbeat=" + heartbeat.toMillis()));
      all.put(c, sub);
      if (!c.peerThumbprint().equals(bindings.get(sub))) {
        drop(c); // rebound or revoked while it connected
        return;
      }
      queues.computeIfAbsent(sub, this::newQueue).idle(c);
    } catch (IOException e) {
      PinnedTls.UntrustedPeerException u = PinnedTls.untrusted(e);
      if (u != null) {
        LOG.warn(
            "refused a polling connection from {}: {}", s.getRemoteSocketAddress(), u.getMessage());
      }
      closeQuietly(s);
    }
  }

  /** Forgets and closes an authenticated connection. */
  void drop(PeerConnection c) {
    all.remove(c);
    c.close();
  }

  /** Open authenticated connections of a subscription (monitoring, tests). */
  public int connections(String subscription) {
    int n = 0;
    for (Map.Entry<PeerConnection, String> e : all.entrySet()) {
      if (e.getValue().equals(subscription) && !e.getKey().isClosed()) {
        n++;
      }
    }
    return n;
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
    io.shutdownNow();
    closeQuietly(server);
    handshakes.close();
    all.keySet().forEach(PeerConnection::close);
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
