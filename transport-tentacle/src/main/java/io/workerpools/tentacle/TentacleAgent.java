package io.workerpools.tentacle;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.tentacle.internal.AgentServices;
import io.workerpools.tentacle.internal.FileService;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.tentacle.internal.ScriptService;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent that runs on a worker machine, in-process. {@link AgentMain} wraps it as a command line
 * program; tests and embedding hosts use it directly.
 *
 * <p>Listening mode ({@link Builder#listen}): accepts TLS connections from trusted hosts; one
 * connection serves one request at a time. Polling mode ({@link Builder#poll}): keeps {@code
 * connections} TLS connections open to the host's polling port and serves the requests the host
 * sends down them, reconnecting forever with jittered exponential back-off.
 *
 * <p>Threads: listening mode has one acceptor thread and a bounded pool of connection threads. A
 * connection that has not finished its TLS handshake holds no connection slot: at most {@link
 * Builder#maxPendingHandshakes} wait in their handshake at once (a newer one evicts the oldest),
 * each for at most {@link Builder#handshakeTimeout} in all, so strangers flooding the port cannot
 * lock out a trusted host. Only authenticated connections count against {@link
 * Builder#maxConnections} (one beyond it is closed); every connection has a read timeout, so none
 * blocks forever. Polling mode has one thread per configured connection. Scripts use the script
 * service's own pool.
 */
public final class TentacleAgent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TentacleAgent.class);

  /** What happens to running scripts on {@link #close()}. */
  public enum ShutdownMode {
    /** Wait for running scripts up to the shutdown timeout, then cancel what still runs. */
    FINISH,
    /** Cancel running scripts at once. */
    CANCEL
  }

  private final Builder config;
  private final TentacleCertificate certificate;
  private final SSLContext ssl;
  private final ScriptService scripts;
  private final AgentServices services;
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicInteger connectionNo = new AtomicInteger();
  private final AtomicInteger pollingConnected = new AtomicInteger();
  private final AtomicInteger pollingFailures = new AtomicInteger();
  private final Set<Pending> pending = new LinkedHashSet<>();
  private final AtomicLong handshakesEvicted = new AtomicLong();
  private final AtomicLong handshakesTimedOut = new AtomicLong();
  private ServerSocket server;
  private ThreadPoolExecutor connectionPool;
  private ThreadPoolExecutor handshakePool;
  private ScheduledThreadPoolExecutor deadlines;
  private Semaphore established;

  private TentacleAgent(Builder b) {
    this.config = b;
    try {
      io.workerpools.tentacle.internal.OwnerOnly.createDirectories(b.home);
    } catch (IOException e) {
      throw new ConfigurationException(
          "home", "cannot create the agent's home " + b.home + ": " + e.getMessage(), e);
    }
    this.certificate =
        b.certificate != null
            ? b.certificate
            : TentacleCertificate.loadOrCreate(b.home.resolve("certificate"), "workerpools-agent");
    Set<String> trusted = Set.copyOf(b.trusted);
    this.ssl = PinnedTls.context(certificate, () -> trusted);
    this.scripts = new ScriptService(b.home.resolve("work"), b.workspaceRetention);
    this.services =
        new AgentServices(
            scripts, new FileService(b.home.resolve("files"), b.reserveBytes), b.maxFrameBytes);
  }

  /**
   * A builder for an agent whose state (certificate, workspaces, files) lives under {@code home}.
   */
  public static Builder builder(Path home) {
    return new Builder(home);
  }

  /** This agent's certificate thumbprint: what the host registers. */
  public String thumbprint() {
    return certificate.thumbprint();
  }

  /** The listening address (listening mode only). */
  public InetSocketAddress listeningAddress() {
    if (server == null) {
      throw new IllegalStateException("this agent is not in listening mode");
    }
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /** How many polling connection attempts have failed so far (polling mode). */
  public int pollingFailures() {
    return pollingFailures.get();
  }

  /**
   * How many connections were closed unauthenticated because newer ones needed their handshake slot
   * (listening mode; see {@link Builder#maxPendingHandshakes}).
   */
  public long handshakesEvicted() {
    return handshakesEvicted.get();
  }

  /** How many connections were closed because their handshake missed its deadline. */
  public long handshakesTimedOut() {
    return handshakesTimedOut.get();
  }

  /** How many polling connections are currently established (polling mode). */
  public int pollingConnections() {
    return pollingConnected.get();
  }

  private TentacleAgent start() {
    if (config.listenPort >= 0) {
      startListening();
    } else {
      for (int i = 0; i < config.connections; i++) {
        Thread t = new Thread(this::pollForever, "agent-poll-" + (i + 1));
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
    }
    return this;
  }

  private void startListening() {
    try {
      server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(
          new InetSocketAddress(InetAddress.getByName(config.bindHost), config.listenPort), 128);
    } catch (IOException e) {
      throw new ConfigurationException(
          "listen", "cannot listen on " + config.bindHost + ":" + config.listenPort + ": " + e, e);
    }
    established = new Semaphore(config.maxConnections);
    // Handshakes: one thread per pending handshake; a queued task whose connection was evicted
    // meanwhile ends at once, and eviction closes the socket a blocked handshake reads from.
    handshakePool = fixedDaemonPool(config.maxPendingHandshakes, "agent-handshake-");
    // Authenticated connections: at most maxConnections, guarded by a semaphore taken before
    // submitting, so the queue never holds more than the threads can take.
    connectionPool = fixedDaemonPool(config.maxConnections, "agent-conn-");
    deadlines =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "agent-handshake-deadline");
              t.setDaemon(true);
              return t;
            });
    deadlines.setRemoveOnCancelPolicy(true);
    Thread acceptor = new Thread(this::acceptLoop, "agent-accept");
    acceptor.setDaemon(true);
    threads.add(acceptor);
    acceptor.start();
  }

  private ThreadPoolExecutor fixedDaemonPool(int threads, String prefix) {
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, prefix + connectionNo.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /** A connection that has not finished its TLS handshake yet: it holds no connection slot. */
  private static final class Pending {
    final Socket plain;
    volatile ScheduledFuture<?> deadline;

    Pending(Socket plain) {
      this.plain = plain;
    }
  }

  private void acceptLoop() {
    while (closed.getCount() > 0) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (server.isClosed()) {
          return;
        }
        LOG.warn("accept failed: {}", e.toString());
        continue;
      }
      Pending p = new Pending(s);
      Pending evicted = null;
      synchronized (pending) {
        if (pending.size() >= config.maxPendingHandshakes) {
          evicted = pending.iterator().next();
          pending.remove(evicted);
        }
        pending.add(p);
      }
      if (evicted != null) {
        handshakesEvicted.incrementAndGet();
        LOG.debug(
            "closed a connection from {} still in its TLS handshake: {} newer connections wait",
            evicted.plain.getRemoteSocketAddress(),
            config.maxPendingHandshakes);
        abandon(evicted);
      }
      try {
        p.deadline =
            deadlines.schedule(
                () -> {
                  if (removePending(p)) {
                    handshakesTimedOut.incrementAndGet();
                    closeQuietly(p.plain);
                  }
                },
                config.handshakeTimeout.toMillis(),
                TimeUnit.MILLISECONDS);
        handshakePool.execute(() -> handshake(p));
      } catch (RejectedExecutionException e) {
        // only after close()
        removePending(p);
        abandon(p);
      }
    }
  }

  private boolean removePending(Pending p) {
    synchronized (pending) {
      return pending.remove(p);
    }
  }

  private void abandon(Pending p) {
    ScheduledFuture<?> d = p.deadline;
    if (d != null) {
      d.cancel(false);
    }
    closeQuietly(p.plain);
  }

  private void handshake(Pending p) {
    Socket plain = p.plain;
    if (plain.isClosed()) {
      return; // evicted while queued
    }
    sockets.add(plain);
    SSLSocket s = null;
    boolean handedOver = false;
    try {
      plain.setTcpNoDelay(true);
      plain.setSoTimeout((int) config.handshakeTimeout.toMillis());
      // Layered over our own plain socket, without auto-close: a refusal can then be torn down
      // gracefully (see refuseGracefully) and an eviction closes the plain socket at once.
      s =
          (SSLSocket)
              ssl.getSocketFactory()
                  .createSocket(
                      plain, plain.getInetAddress().getHostAddress(), plain.getPort(), false);
      s.setUseClientMode(false);
      s.setNeedClientAuth(true);
      s.setEnabledProtocols(PinnedTls.PROTOCOLS);
      try {
        s.startHandshake();
      } catch (SSLException e) {
        if (!plain.isClosed()) {
          refuseGracefully(plain);
        }
        throw e;
      }
      if (!removePending(p)) {
        return; // evicted or timed out just as the handshake finished: already closed
      }
      p.deadline.cancel(false);
      if (!established.tryAcquire()) {
        LOG.warn(
            "refused a connection from {}: all {} connections are in use",
            plain.getRemoteSocketAddress(),
            config.maxConnections);
        return;
      }
      SSLSocket tls = s;
      try {
        connectionPool.execute(() -> serveListening(plain, tls));
        handedOver = true;
      } catch (RejectedExecutionException e) {
        established.release(); // only after close()
      }
    } catch (IOException e) {
      logConnectionError(plain.getRemoteSocketAddress(), e);
    } finally {
      if (removePending(p)) {
        p.deadline.cancel(false);
      }
      if (!handedOver) {
        sockets.remove(plain);
        if (s != null) {
          closeQuietly(s);
        }
        closeQuietly(plain);
      }
    }
  }

  private void serveListening(Socket plain, SSLSocket s) {
    try {
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      String hello = Frames.readLine(in);
      if (!hello.equals("CLIENT")) {
        Frames.writeLine(out, Frames.PROTOCOL + " ERROR this agent is listening; expected CLIENT");
        return;
      }
      Frames.writeLine(out, Frames.PROTOCOL + " OK");
      s.setSoTimeout((int) config.idleTimeout.toMillis());
      services.serve(in, out);
    } catch (IOException e) {
      logConnectionError(plain.getRemoteSocketAddress(), e);
    } catch (RuntimeException e) {
      LOG.warn("closed the connection from {}: {}", plain.getRemoteSocketAddress(), e.toString());
    } finally {
      established.release();
      sockets.remove(plain);
      closeQuietly(s);
      closeQuietly(plain);
    }
  }

  /**
   * After a failed handshake the TLS layer has written its alert (e.g. bad_certificate). Closing at
   * once with unread bytes from the peer (its first request, sent after its side of a TLS 1.3
   * handshake) would send a TCP reset, which can destroy the alert before the peer reads it; the
   * peer could then not tell a refusal from a crash. So: end our output, read what the peer still
   * sends for a short bounded while, then close.
   */
  private static void refuseGracefully(Socket plain) {
    try {
      plain.shutdownOutput();
      plain.setSoTimeout(1000);
      InputStream in = plain.getInputStream();
      byte[] buf = new byte[4096];
      int total = 0;
      int n;
      while (total < 65536 && (n = in.read(buf)) >= 0) {
        total += n;
      }
    } catch (IOException e) {
      // closing anyway
    }
  }

  private void logConnectionError(Object peer, IOException e) {
    PinnedTls.UntrustedPeerException u = PinnedTls.untrusted(e);
    if (u != null) {
      LOG.warn("refused a connection from {}: {}", peer, u.getMessage());
    } else if (closed.getCount() > 0 && !(e instanceof SocketException)) {
      LOG.info("closed the connection from {}: {}", peer, e.getMessage());
    }
  }

  private void pollForever() {
    int attempt = 0;
    while (closed.getCount() > 0) {
      SSLSocket s = null;
      boolean connected = false;
      try {
        s = (SSLSocket) ssl.getSocketFactory().createSocket();
        sockets.add(s);
        PinnedTls.configure(s);
        s.setTcpNoDelay(true);
        s.setKeepAlive(true);
        s.connect(config.server, (int) config.handshakeTimeout.toMillis());
        s.setSoTimeout((int) config.handshakeTimeout.toMillis());
        s.startHandshake();
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = new BufferedOutputStream(s.getOutputStream());
        Frames.writeLine(out, Frames.PROTOCOL + " POLL " + config.subscription);
        String answer = Frames.readLine(in);
        if (!answer.startsWith("OK")) {
          throw new IOException("the host refused the subscription: " + answer);
        }
        long heartbeat = parseHeartbeat(answer);
        s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, heartbeat * 2 + 10_000));
        connected = true;
        attempt = 0;
        pollingConnected.incrementAndGet();
        services.serve(in, out);
      } catch (IOException e) {
        if (closed.getCount() > 0) {
          PinnedTls.UntrustedPeerException u = PinnedTls.untrusted(e);
          LOG.warn(
              "polling connection to {} failed: {}",
              config.server,
              u != null ? u.getMessage() : e.getMessage());
        }
      } catch (RuntimeException e) {
        // Never the end of this thread: it is one of the agent's few ways to be reached.
        LOG.warn("polling connection to {} failed unexpectedly", config.server, e);
      } finally {
        if (connected) {
          pollingConnected.decrementAndGet();
        }
        if (s != null) {
          sockets.remove(s);
          closeQuietly(s);
        }
      }
      if (!connected) {
        attempt++;
        pollingFailures.incrementAndGet();
      }
      long delay = backoff(attempt);
      try {
        closed.await(delay, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * Jittered exponential back-off: a random delay in [d/2, d] with d = min(max, min * 2^attempt).
   */
  long backoff(int attempt) {
    long min = config.minBackoff.toMillis();
    long max = config.maxBackoff.toMillis();
    if (attempt <= 0) {
      return ThreadLocalRandom.current().nextLong(1, Math.max(2, min / 2));
    }
    long d = min << Math.min(attempt - 1, 20);
    d = Math.min(max, d);
    return d / 2 + ThreadLocalRandom.current().nextLong(d / 2 + 1);
  }

  private static long parseHeartbeat(String answer) {
    for (String part : answer.split(" ")) {
      if (part.startsWith("heartbeat=")) {
        try {
          return Long.parseLong(part.substring("heartbeat=".length()));
        } catch (NumberFormatException e) {
          break;
        }
      }
    }
    return 30_000;
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /**
   * Stops: no new connections; running scripts finish (up to the shutdown timeout) or are
   * cancelled, as configured; then connections close and threads stop.
   */
  @Override
  public void close() {
    if (closed.getCount() == 0) {
      return;
    }
    try {
      if (server != null) {
        server.close();
      }
    } catch (IOException e) {
      // closing anyway
    }
    if (config.shutdownMode == ShutdownMode.FINISH) {
      try {
        scripts.awaitIdle(config.shutdownTimeout);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    closed.countDown();
    scripts.close();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
    if (connectionPool != null) {
      connectionPool.shutdownNow();
    }
    if (handshakePool != null) {
      handshakePool.shutdownNow();
    }
    if (deadlines != null) {
      deadlines.shutdownNow();
    }
    synchronized (pending) {
      for (Pending p : pending) {
        closeQuietly(p.plain);
      }
      pending.clear();
    }
    for (Thread t : threads) {
      t.interrupt();
    }
  }

  /**
   * Configures a {@link TentacleAgent}. Required: at least one trusted thumbprint, and one of
   * {@link #listen} or {@link #poll}.
   */
  public static final class Builder {
    private final Path home;
    private final Set<String> trusted = new LinkedHashSet<>();
    private TentacleCertificate certificate;
    private String bindHost = "127.0.0.1";
    private int listenPort = -1;
    private InetSocketAddress server;
    private String subscription;
    private int connections = Math.max(5, Runtime.getRuntime().availableProcessors());
    private int maxConnections = 64;
    private int maxFrameBytes = Frames.DEFAULT_MAX_FRAME_BYTES;
    private int maxPendingHandshakes = 16;
    private Duration handshakeTimeout = Duration.ofSeconds(5);
    private Duration idleTimeout = Duration.ofMinutes(5);
    private Duration minBackoff = Duration.ofSeconds(5);
    private Duration maxBackoff = Duration.ofMinutes(2);
    private Duration workspaceRetention = Duration.ofDays(7);
    private long reserveBytes = 64L * 1024 * 1024;
    private ShutdownMode shutdownMode = ShutdownMode.CANCEL;
    private Duration shutdownTimeout = Duration.ofSeconds(30);

    private Builder(Path home) {
      this.home = Objects.requireNonNull(home, "home");
    }

    /** Trusts a host's thumbprint (64 hex digits, any case). */
    public Builder trust(String thumbprint) {
      trusted.add(TentacleCertificate.normalizeThumbprint("trust", thumbprint));
      return this;
    }

    /** Uses this certificate instead of loading or creating one under {@code home/certificate}. */
    public Builder certificate(TentacleCertificate certificate) {
      this.certificate = certificate;
      return this;
    }

    /** Listening mode, on {@code bindHost:port} (port 0: any free port). */
    public Builder listen(String bindHost, int port) {
      if (port < 0 || port > 65535) {
        throw new ConfigurationException("port", "must be 0 to 65535 but was " + port);
      }
      this.bindHost = Objects.requireNonNull(bindHost, "bindHost");
      this.listenPort = port;
      return this;
    }

    /** Polling mode: connects to the host's polling port as {@code subscription}. */
    public Builder poll(InetSocketAddress server, String subscription, int connections) {
      if (subscription == null || !subscription.matches("[A-Za-z0-9._-]{1,128}")) {
        throw new ConfigurationException(
            "subscription",
            "'" + subscription + "' is not valid: use 1 to 128 letters, digits, '.', '_' or '-'");
      }
      if (connections < 1 || connections > 64) {
        throw new ConfigurationException("connections", "must be 1 to 64 but was " + connections);
      }
      this.server = Objects.requireNonNull(server, "server");
      this.subscription = subscription;
      this.connections = connections;
      return this;
    }

    /**
     * The most authenticated connections served at once in listening mode (default 64); connections
     * still in their handshake are bounded by {@link #maxPendingHandshakes} instead.
     */
    public Builder maxConnections(int max) {
      if (max < 1) {
        throw new ConfigurationException("maxConnections", "must be at least 1 but was " + max);
      }
      this.maxConnections = max;
      return this;
    }

    /** The largest frame accepted (default 16 MiB). */
    public Builder maxFrameBytes(int max) {
      if (max < 1024) {
        throw new ConfigurationException("maxFrameBytes", "must be at least 1024 but was " + max);
      }
      this.maxFrameBytes = max;
      return this;
    }

    /** The reconnect back-off range of polling mode (default 5 s to 2 min, jittered). */
    public Builder reconnectBackoff(Duration min, Duration max) {
      if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
        throw new ConfigurationException(
            "reconnectBackoff", "needs 0 < min <= max but was " + min + ", " + max);
      }
      this.minBackoff = min;
      this.maxBackoff = max;
      return this;
    }

    /**
     * The longest a TLS handshake may take in all, from accept to authentication (default 5 s);
     * also the read timeout of the preamble and, in polling mode, of connect and handshake.
     */
    public Builder handshakeTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.toMillis() < 100 || timeout.toMillis() > Integer.MAX_VALUE) {
        throw new ConfigurationException(
            "handshakeTimeout",
            "must be at least 100 ms (a few seconds is usual) but was " + timeout);
      }
      this.handshakeTimeout = timeout;
      return this;
    }

    /**
     * The most connections still in their TLS handshake at once, in listening mode (default 16).
     * When full, a new connection evicts the oldest unauthenticated one: a trusted host's handshake
     * takes milliseconds, so silent strangers are what gets evicted.
     */
    public Builder maxPendingHandshakes(int max) {
      if (max < 1 || max > 1024) {
        throw new ConfigurationException(
            "maxPendingHandshakes", "must be 1 to 1024 but was " + max);
      }
      this.maxPendingHandshakes = max;
      return this;
    }

    /** How long a connection may sit idle before the agent closes it (default 5 min). */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Workspaces older than this are deleted at start (default 7 days). */
    public Builder workspaceRetention(Duration retention) {
      this.workspaceRetention = Objects.requireNonNull(retention, "retention");
      return this;
    }

    /** What {@link TentacleAgent#close()} does to running scripts (default: cancel them). */
    public Builder shutdown(ShutdownMode mode, Duration timeout) {
      this.shutdownMode = Objects.requireNonNull(mode, "mode");
      this.shutdownTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Starts the agent. */
    public TentacleAgent start() {
      if (trusted.isEmpty()) {
        throw new ConfigurationException(
            "trust", "the agent must trust at least one host thumbprint (--trust THUMBPRINT)");
      }
      if (listenPort < 0 && server == null) {
        throw new ConfigurationException("mode", "choose listen(...) or poll(...)");
      }
      try {
        return new TentacleAgent(this).start();
      } catch (WorkerPoolsException e) {
        throw e;
      }
    }
  }
}
