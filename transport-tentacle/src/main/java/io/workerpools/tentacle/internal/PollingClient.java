package io.workerpools.tentacle.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A polling agent's client: {@code connections} threads, each keeping one TLS connection open to
 * the host's polling port and serving the requests the host sends down it, reconnecting forever
 * with jittered exponential back-off. No failure ends a thread: it reconnects.
 */
public final class PollingClient implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(PollingClient.class);

  private final SSLContext ssl;
  private final TrustedConnections trusted;
  private final ProtocolVersions versions;
  private final AgentServices services;
  private final InetSocketAddress server;
  private final String subscription;
  private final Duration handshakeTimeout;
  private final Duration minBackoff;
  private final Duration maxBackoff;
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicInteger pollingConnected = new AtomicInteger();
  private final AtomicInteger pollingFailures = new AtomicInteger();

  /** Starts {@code connections} polling threads. */
  public PollingClient(
      SSLContext ssl,
      TrustedConnections trusted,
      ProtocolVersions versions,
      AgentServices services,
      InetSocketAddress server,
      String subscription,
      int connections,
      Duration handshakeTimeout,
      Duration minBackoff,
      Duration maxBackoff) {
    this.ssl = ssl;
    this.trusted = trusted;
    this.versions = versions;
    this.services = services;
    this.server = server;
    this.subscription = subscription;
    this.handshakeTimeout = handshakeTimeout;
    this.minBackoff = minBackoff;
    this.maxBackoff = maxBackoff;
    for (int i = 0; i < connections; i++) {
      Thread t = new Thread(this::pollForever, "agent-poll-" + (i + 1));
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** How many connection attempts have failed so far. */
  public int failures() {
    return pollingFailures.get();
  }

  /** How many connections are established now. */
  public int connected() {
    return pollingConnected.get();
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
        s.connect(server, (int) handshakeTimeout.toMillis());
        s.setSoTimeout((int) handshakeTimeout.toMillis());
        s.startHandshake();
        String host = TrustedConnections.peerOf(s);
        if (!trusted.admit(s, host)) {
          // A resumed session skips the trust manager: a host whose trust was removed since.
          throw new IOException("the host presented thumbprint " + host + ", no longer trusted");
        }
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = new BufferedOutputStream(s.getOutputStream());
        Frames.writeLine(out, versions.hello("POLL " + subscription));
        ProtocolVersions.Line reply = ProtocolVersions.parse(Frames.readPreamble(in));
        String answer = reply.words();
        if (!answer.startsWith("OK")) {
          throw new IOException("the host refused the connection: " + answer);
        }
        if (!versions.speaks(reply.version())) {
          throw new IOException(
              "the host answered in protocol version "
                  + reply.version()
                  + ", which this agent does not speak ("
                  + versions
                  + "); upgrade the "
                  + (reply.version() < versions.min() ? "host" : "agent"));
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
              server,
              u != null ? u.getMessage() : e.getMessage());
        }
      } catch (RuntimeException e) {
        // Never the end of this thread: it is one of the agent's few ways to be reached.
        LOG.warn("polling connection to {} failed unexpectedly", server, e);
      } finally {
        if (connected) {
          pollingConnected.decrementAndGet();
        }
        if (s != null) {
          trusted.forget(s);
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
  public long backoff(int attempt) {
    long min = minBackoff.toMillis();
    long max = maxBackoff.toMillis();
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

  /** Stops: closes every connection and ends the threads. */
  @Override
  public void close() {
    closed.countDown();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
    for (Thread t : threads) {
      t.interrupt();
    }
  }
}
