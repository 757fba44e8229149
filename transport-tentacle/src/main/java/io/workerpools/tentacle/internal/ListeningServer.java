package io.workerpools.tentacle.internal;

import io.workerpools.ConfigurationException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listening agent's server: one acceptor thread; TLS handshakes on a {@link HandshakeBudget}
 * (they hold no connection slot: strangers flooding the port cannot lock out a trusted host); at
 * most {@code maxConnections} authenticated connections, one thread each, each with a read timeout.
 */
public final class ListeningServer implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(ListeningServer.class);

  private final SSLContext ssl;
  private final AgentServices services;
  private final int maxConnections;
  private final Duration handshakeTimeout;
  private final Duration idleTimeout;
  private final ServerSocket server;
  private final Semaphore established;
  private final HandshakeBudget handshakes;
  private final ThreadPoolExecutor connectionPool;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final AtomicInteger connectionNo = new AtomicInteger();
  private final Thread acceptor;
  private final TrustedConnections trusted;
  private final ProtocolVersions versions;
  private volatile boolean closed;

  /** Binds and starts accepting. */
  public ListeningServer(
      SSLContext ssl,
      TrustedConnections trusted,
      ProtocolVersions versions,
      AgentServices services,
      String bindHost,
      int port,
      int maxConnections,
      int maxPendingHandshakes,
      Duration handshakeTimeout,
      Duration idleTimeout) {
    this.ssl = ssl;
    this.trusted = trusted;
    this.versions = versions;
    this.services = services;
    this.maxConnections = maxConnections;
    this.handshakeTimeout = handshakeTimeout;
    this.idleTimeout = idleTimeout;
    try {
      server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(InetAddress.getByName(bindHost), port), 128);
    } catch (IOException e) {
      throw new ConfigurationException(
          "listen", "cannot listen on " + bindHost + ":" + port + ": " + e, e);
    }
    established = new Semaphore(maxConnections);
    // Handshakes: their own budget (oldest evicted, absolute deadline), never a connection slot.
    handshakes = new HandshakeBudget("agent", maxPendingHandshakes, handshakeTimeout);
    // Authenticated connections: at most maxConnections, guarded by a semaphore taken before
    // submitting, so the queue never holds more than the threads can take.
    connectionPool = fixedDaemonPool(maxConnections, "agent-conn-");
    acceptor = new Thread(this::acceptLoop, "agent-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The bound address. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /** Connections closed unauthenticated to make room for newer ones. */
  public long handshakesEvicted() {
    return handshakes.evicted();
  }

  /** Connections closed at their handshake deadline. */
  public long handshakesTimedOut() {
    return handshakes.timedOut();
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

  private void acceptLoop() {
    while (!closed) {
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
      handshakes.admit(s, this::handshake);
    }
  }

  private void handshake(HandshakeBudget.Admission admission) {
    Socket plain = admission.socket();
    sockets.add(plain);
    SSLSocket s = null;
    boolean handedOver = false;
    try {
      plain.setTcpNoDelay(true);
      plain.setSoTimeout((int) handshakeTimeout.toMillis());
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
      if (!admission.authenticated()) {
        return; // evicted or timed out just as the handshake finished: already closed
      }
      String peer = TrustedConnections.peerOf(s);
      if (!trusted.admit(plain, peer)) {
        // A resumed session skips the trust manager: a host whose trust was removed since.
        String why = "this host's thumbprint " + peer + " is no longer trusted by the agent";
        LOG.warn("refused a connection from {}: {}", plain.getRemoteSocketAddress(), why);
        Frames.writeLine(s.getOutputStream(), versions.error(why));
        refuseGracefully(plain);
        return;
      }
      if (!established.tryAcquire()) {
        LOG.warn(
            "refused a connection from {}: all {} connections are in use",
            plain.getRemoteSocketAddress(),
            maxConnections);
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
      if (!handedOver) {
        trusted.forget(plain);
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
      ProtocolVersions.Line hello = ProtocolVersions.parse(Frames.readPreamble(in));
      if (!hello.words().equals("CLIENT")) {
        Frames.writeLine(out, versions.error("this agent is listening; expected CLIENT"));
        return;
      }
      java.util.OptionalInt v = versions.choose(hello.min(), hello.version());
      if (v.isEmpty()) {
        String why = versions.noCommonVersion("agent", "host", hello.min(), hello.version());
        LOG.warn("refused a connection from {}: {}", plain.getRemoteSocketAddress(), why);
        Frames.writeLine(out, versions.error(why));
        return;
      }
      Frames.writeLine(out, ProtocolVersions.ok(v.getAsInt(), ""));
      s.setSoTimeout((int) idleTimeout.toMillis());
      services.serve(in, out);
    } catch (IOException e) {
      logConnectionError(plain.getRemoteSocketAddress(), e);
    } catch (RuntimeException e) {
      LOG.warn("closed the connection from {}: {}", plain.getRemoteSocketAddress(), e.toString());
    } finally {
      established.release();
      trusted.forget(plain);
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
    } else if (!closed && !(e instanceof SocketException)) {
      LOG.info("closed the connection from {}: {}", peer, e.getMessage());
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** Stops accepting new connections; those open are served on. */
  public void stopAccepting() {
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** Stops accepting and closes every connection. */
  @Override
  public void close() {
    closed = true;
    stopAccepting();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
    connectionPool.shutdownNow();
    handshakes.close();
    acceptor.interrupt();
  }
}
