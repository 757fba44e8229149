package io.workerpools.tentacle.internal;

import io.workerpools.tentacle.TentacleCertificate;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;

/**
 * One TLS connection over which the host sends requests and reads replies, one at a time: a
 * connection the host opened to a listening agent, or one a polling agent opened to the host.
 */
public final class PeerConnection implements Closeable {
  /** A failure that surely happened before the request left: it can be retried safely. */
  public static class ConnectFailure extends IOException {
    private static final long serialVersionUID = 1L;

    public ConnectFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The peer's certificate was not the pinned one, or the peer refused ours. Never retried. */
  public static class PeerAuthenticationFailure extends ConnectFailure {
    private static final long serialVersionUID = 1L;

    public PeerAuthenticationFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The agent answered the preamble with a refusal (no common protocol version, a host no longer
   * trusted). Never retried: an operator must act.
   */
  public static final class PeerRefusal extends PeerAuthenticationFailure {
    private static final long serialVersionUID = 1L;

    PeerRefusal(String message) {
      super(message, null);
    }
  }

  private final SSLSocket socket;
  private final DeadlineInput in;
  private final OutputStream out;
  private final int maxFrameBytes;
  private final String peerThumbprint;
  private volatile long lastUsedNanos = System.nanoTime();
  private volatile boolean closed;
  private volatile boolean suspect;
  private volatile boolean used;
  private volatile boolean requestWritten;

  /** Wraps a socket whose handshake and preamble are done. */
  public PeerConnection(SSLSocket socket, InputStream in, OutputStream out, int maxFrameBytes)
      throws SSLPeerUnverifiedException {
    this.socket = socket;
    this.in = new DeadlineInput(socket, in);
    this.out = out;
    this.maxFrameBytes = maxFrameBytes;
    Certificate[] peer = socket.getSession().getPeerCertificates();
    this.peerThumbprint = TentacleCertificate.thumbprintOf((X509Certificate) peer[0]);
  }

  /**
   * Opens a connection to a listening agent: TLS handshake (the trust manager of {@code ssl} pins
   * the agent's thumbprint) and preamble.
   *
   * @throws PeerAuthenticationFailure if either side refused the other's certificate
   * @throws ConnectFailure for any other failure
   */
  public static PeerConnection open(
      SSLContext ssl,
      InetSocketAddress address,
      String hostThumbprint,
      Duration connectTimeout,
      int maxFrameBytes)
      throws ConnectFailure {
    return open(ssl, address, hostThumbprint, connectTimeout, maxFrameBytes, SharedTimer.get());
  }

  /** As above, with the timer that enforces the connect deadline. */
  public static PeerConnection open(
      SSLContext ssl,
      InetSocketAddress address,
      String hostThumbprint,
      Duration connectTimeout,
      int maxFrameBytes,
      ScheduledExecutorService timer)
      throws ConnectFailure {
    SSLSocket s = null;
    boolean handshakeDone = false;
    boolean connected = false;
    ScheduledFuture<?> deadline = null;
    try {
      s = (SSLSocket) ssl.getSocketFactory().createSocket();
      PinnedTls.configure(s);
      s.setTcpNoDelay(true);
      s.setKeepAlive(true);
      s.connect(address, (int) connectTimeout.toMillis());
      connected = true;
      // Then the TLS handshake and the preamble together within connectTimeout, an absolute
      // deadline: an agent that drips handshake bytes is closed at it (per-read timeouts alone
      // would let it hold this thread for good).
      SSLSocket opening = s;
      deadline =
          timer.schedule(
              () -> closeQuietly(opening), connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
      s.setSoTimeout((int) connectTimeout.toMillis());
      s.startHandshake();
      handshakeDone = true;
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      ProtocolVersions.Line answer;
      try {
        Frames.writeLine(out, ProtocolVersions.CURRENT.hello("CLIENT"));
        answer = ProtocolVersions.parse(Frames.readPreamble(in));
      } catch (IOException e) {
        // With TLS 1.3 the server checks our certificate after our side of the handshake is done:
        // its refusal (an alert) may only show when we read. Read once more to surface it.
        try {
          s.getInputStream().read();
        } catch (IOException alert) {
          e.addSuppressed(alert);
        }
        throw e;
      }
      if (!answer.words().startsWith("OK")) {
        // The agent's own refusal (a host no longer trusted, no common protocol version): retrying
        // cannot help until an operator acts, as with a refused certificate.
        throw new PeerRefusal(
            "the agent at "
                + address.getHostString()
                + ":"
                + address.getPort()
                + " refused the connection: "
                + answer.words());
      }
      if (!ProtocolVersions.CURRENT.speaks(answer.version())) {
        throw new PeerRefusal(
            "the agent at "
                + address.getHostString()
                + ":"
                + address.getPort()
                + " answered in protocol version "
                + answer.version()
                + ", which this host does not speak ("
                + ProtocolVersions.CURRENT
                + ")");
      }
      deadline.cancel(false);
      if (s.isClosed()) {
        throw new java.net.SocketTimeoutException("the connect deadline passed");
      }
      return new PeerConnection(s, in, out, maxFrameBytes);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      closeQuietly(s);
      throw new ConnectFailure("the transport is closed", e);
    } catch (PeerAuthenticationFailure e) {
      deadline.cancel(false);
      closeQuietly(s);
      throw e;
    } catch (IOException e) {
      if (deadline != null) {
        deadline.cancel(false);
      }
      closeQuietly(s);
      PinnedTls.UntrustedPeerException u = PinnedTls.untrusted(e);
      if (u != null) {
        throw new PeerAuthenticationFailure(
            "the agent at "
                + address.getHostString()
                + ":"
                + address.getPort()
                + " presented thumbprint "
                + u.presented()
                + " but the expected thumbprint is "
                + String.join(", ", u.expected())
                + "; if the agent's certificate changed on purpose, register the new thumbprint",
            e);
      }
      // A refusal is a TLS alert about our certificate (the agent tears its side down gracefully
      // so the alert arrives even when our first request is already on its way). Anything else,
      // a reset, an end of stream before any alert, a timeout, is a transport failure: the agent
      // may be crashing or restarting, and a retry may well succeed.
      if (PinnedTls.refusedByPeer(e)) {
        throw new PeerAuthenticationFailure(
            "the agent at "
                + address.getHostString()
                + ":"
                + address.getPort()
                + " refused this host's certificate (TLS alert: "
                + PinnedTls.alertOf(e)
                + "; this host's thumbprint is "
                + hostThumbprint
                + "); start the agent with --trust "
                + hostThumbprint,
            e);
      }
      throw new ConnectFailure(
          "cannot connect to the agent at "
              + address.getHostString()
              + ":"
              + address.getPort()
              + ": "
              + whatHappened(e, connected, handshakeDone, connectTimeout),
          e);
    }
  }

  /** Names a transport failure while connecting, for a person reading the error. */
  static String whatHappened(
      IOException e, boolean connected, boolean handshakeDone, Duration timeout) {
    String stage =
        !connected
            ? "connecting"
            : handshakeDone ? "the preamble after the TLS handshake" : "the TLS handshake";
    if (!connected) {
      return e.getMessage();
    }
    if (e instanceof ProtocolViolationException) {
      return e.getMessage();
    }
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof java.net.SocketTimeoutException) {
        return "no answer within " + timeout.toMillis() + " ms during " + stage;
      }
    }
    String all = PinnedTls.messages(e);
    if (all.contains("Connection reset")) {
      return "the connection was reset during "
          + stage
          + " (the agent may have crashed or be restarting); it will be retried";
    }
    if (all.contains("Broken pipe")) {
      return "the connection broke during "
          + stage
          + " (the agent may have crashed or be restarting); it will be retried";
    }
    return "the connection ended during "
        + stage
        + " before any TLS alert (the agent may have crashed or be restarting): "
        + e.getMessage();
  }

  /**
   * Sends a request frame and reads its reply frame, which must have arrived in full within {@code
   * replyTimeout} of now (an absolute deadline: a peer dripping bytes cannot stretch it).
   */
  public byte[] exchange(byte[] request, Duration replyTimeout) throws IOException {
    in.deadlineIn(replyTimeout.toMillis());
    requestWritten = false;
    used = true;
    Frames.write(out, request);
    requestWritten = true;
    byte[] reply = Frames.read(in, maxFrameBytes);
    if (reply == null) {
      throw new IOException("the peer closed the connection before replying");
    }
    lastUsedNanos = System.nanoTime();
    suspect = false;
    return reply;
  }

  /** Writes a raw frame (a file chunk). */
  public void writeFrame(byte[] chunk, int off, int len) throws IOException {
    Frames.write(out, chunk, off, len);
  }

  /** Reads a raw frame (a file chunk), which must arrive in full within {@code timeout}. */
  public byte[] readFrame(Duration timeout) throws IOException {
    in.deadlineIn(timeout.toMillis());
    byte[] f = Frames.read(in, maxFrameBytes);
    if (f == null) {
      throw new IOException("the peer closed the connection inside a file transfer");
    }
    return f;
  }

  /** The TLS session (benchmarks invalidate it to force full handshakes). */
  public javax.net.ssl.SSLSession session() {
    return socket.getSession();
  }

  /** The thumbprint the peer presented. */
  public String peerThumbprint() {
    return peerThumbprint;
  }

  /**
   * Whether the last {@link #exchange} failed before its request was written in full: the peer
   * cannot have read it, so it was provably never delivered.
   */
  public boolean lastRequestUnwritten() {
    return !requestWritten;
  }

  /** Whether any exchange was attempted on this connection (a reused connection, not a new one). */
  public boolean used() {
    return used;
  }

  /**
   * Marks this connection to be proved alive (ping or heartbeat) before its next use: a sibling
   * connection to the same agent just died, and a cut usually takes all of them.
   */
  public void suspect() {
    suspect = true;
  }

  /** Whether {@link #suspect} was called since the last successful exchange. */
  public boolean suspected() {
    return suspect;
  }

  /** Nanos since the last successful exchange. */
  public long idleNanos() {
    return System.nanoTime() - lastUsedNanos;
  }

  /** Whether {@link #close()} was called or the socket is closed. */
  public boolean isClosed() {
    return closed || socket.isClosed();
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(socket);
  }

  private static void closeQuietly(SSLSocket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
