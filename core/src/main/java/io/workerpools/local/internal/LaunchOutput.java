package io.workerpools.local.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loopback side of the {@link Launcher}: one selector thread accepts every launched script's
 * three connections, binds each to its script by the token it presents first, and hands on what
 * arrives. Any local user can connect to the port: a connection that presents anything but a known
 * token is closed, and so is one that presents nothing by its deadline, or the oldest such ones
 * while there are more than the limit allows.
 */
final class LaunchOutput {
  private static final Logger LOG = LoggerFactory.getLogger(LaunchOutput.class);
  static final int TOKEN_HEX = 32;
  private static final int TOKEN_LINE = TOKEN_HEX + 2; // hex, stream digit, newline

  final Map<String, Launch> byToken = new ConcurrentHashMap<>();
  private final ServerSocketChannel server;
  private final Selector selector;
  private final Thread thread;
  private final long tokenDeadlineNanos;
  private final int spareConnections;
  private final ConcurrentLinkedQueue<Supplier<Collection<Launch>>> endedGenerations =
      new ConcurrentLinkedQueue<>();

  /** Accepted connections in accept order, until they are known (selector thread only). */
  private final ArrayDeque<SelectionKey> unknown = new ArrayDeque<>();

  private int strangers; // selector thread: connections in unknown that have presented nothing
  private long lastAcceptWarning;
  private long lastDropWarning;
  private volatile boolean closing;

  LaunchOutput(Launcher.Limits limits) throws IOException {
    this.tokenDeadlineNanos = limits.tokenDeadline().toNanos();
    this.spareConnections = limits.spareConnections();
    this.server = ServerSocketChannel.open();
    try {
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
      server.configureBlocking(false);
      this.selector = Selector.open();
      server.register(selector, SelectionKey.OP_ACCEPT);
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    this.thread = new Thread(this::selectLoop, "workerpools-local-output");
    thread.setDaemon(true);
    thread.start();
  }

  int port() {
    try {
      return ((InetSocketAddress) server.getLocalAddress()).getPort();
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * A launcher process ended: once every connection accepted so far is known, the launches it holds
   * that never connected back never started.
   */
  void generationEnded(Supplier<Collection<Launch>> launches) {
    endedGenerations.add(launches);
    selector.wakeup();
  }

  /** Stops once no launched script is left. */
  void close() {
    closing = true;
    selector.wakeup();
  }

  private void selectLoop() {
    ByteBuffer buf = ByteBuffer.allocate(16384);
    try {
      while (!(closing && byToken.isEmpty())) {
        selector.select(200);
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
          SelectionKey k = it.next();
          it.remove();
          if (!k.isValid()) {
            continue;
          }
          if (k.isAcceptable()) {
            acceptAll();
          } else if (k.isReadable()) {
            try {
              read(k, buf);
            } catch (RuntimeException e) {
              // A listener threw (a host callback run when a result completed): keep serving the
              // other scripts.
              LOG.warn("handling a launched script's output failed", e);
            }
          }
        }
        settleEndedGenerations();
        dropStrangers();
      }
    } catch (IOException | RuntimeException e) {
      LOG.error("the local launcher's output loop failed; running scripts will be lost", e);
    } finally {
      for (SelectionKey k : selector.keys()) {
        closeQuietly(k);
      }
      try {
        selector.close();
        server.close();
      } catch (IOException e) {
        LOG.debug("closing the launcher's socket failed", e);
      }
    }
  }

  private void acceptAll() {
    try {
      SocketChannel c;
      while ((c = server.accept()) != null) {
        c.configureBlocking(false);
        unknown.addLast(c.register(selector, SelectionKey.OP_READ, new Conn()));
        strangers++;
      }
    } catch (IOException e) {
      // Out of file descriptors, typically: the connection waits in the backlog; try again.
      long now = System.nanoTime();
      if (now - lastAcceptWarning > TimeUnit.SECONDS.toNanos(1)) {
        lastAcceptWarning = now;
        LOG.warn("accepting a launched script's output connection failed: {}", e.toString());
      }
    }
  }

  /**
   * For launcher processes that have ended: their launches that never connected back never started.
   * Waits (up to 5 s) while connections that have not yet said whose they are remain, as one of
   * them may be such a launch's, accepted but not yet read.
   */
  private void settleEndedGenerations() {
    if (endedGenerations.isEmpty()) {
      return;
    }
    acceptAll();
    long now = System.nanoTime();
    for (SelectionKey k : unknown) {
      if (((Conn) k.attachment()).stranger && now - ((Conn) k.attachment()).acceptedAt < 5e9) {
        return; // settle after it has been read
      }
    }
    Supplier<Collection<Launch>> g;
    while ((g = endedGenerations.poll()) != null) {
      for (Launch l : List.copyOf(g.get())) {
        if (!l.isConnected()) {
          l.neverConnected();
        }
      }
    }
  }

  /**
   * Closes connections that have not said whose they are by their deadline, and the oldest of them
   * while there are more than the spare ones plus three per known launch: another local user cannot
   * hold this host's file descriptors by connecting and saying nothing.
   */
  private void dropStrangers() {
    long now = System.nanoTime();
    int cap = spareConnections + 3 * byToken.size();
    int dropped = 0;
    while (!unknown.isEmpty()) {
      SelectionKey k = unknown.peekFirst();
      Conn conn = (Conn) k.attachment();
      if (!conn.stranger) {
        unknown.pollFirst(); // known, or closed already
      } else if (now - conn.acceptedAt > tokenDeadlineNanos || strangers > cap) {
        unknown.pollFirst();
        known(conn);
        closeQuietly(k);
        dropped++;
      } else {
        break; // the rest are younger
      }
    }
    if (dropped > 0 && now - lastDropWarning > TimeUnit.SECONDS.toNanos(10)) {
      lastDropWarning = now;
      LOG.warn(
          "closed {} loopback connection(s) to the local launcher that presented no step token in"
              + " time, or too many at once (another local process connecting to port {}?)",
          dropped,
          port());
    }
  }

  private void known(Conn conn) {
    if (conn.stranger) {
      conn.stranger = false;
      strangers--;
    }
  }

  private void read(SelectionKey k, ByteBuffer buf) {
    SocketChannel c = (SocketChannel) k.channel();
    Conn conn = (Conn) k.attachment();
    int n;
    try {
      buf.clear();
      n = c.read(buf);
    } catch (IOException e) {
      n = -1;
    }
    if (n < 0) {
      known(conn);
      closeQuietly(k);
      if (conn.launch != null) {
        conn.launch.streamEnded(conn.stream);
      }
      return;
    }
    buf.flip();
    if (conn.launch == null) {
      while (buf.hasRemaining() && conn.head.hasRemaining()) {
        conn.head.put(buf.get());
      }
      if (conn.head.hasRemaining()) {
        return;
      }
      known(conn);
      String head = new String(conn.head.array(), StandardCharsets.US_ASCII);
      Launch l = head.endsWith("\n") ? byToken.get(head.substring(0, TOKEN_HEX)) : null;
      int stream = head.charAt(TOKEN_HEX) - '0';
      if (l == null || stream < 0 || stream > 2 || l.events == null) {
        closeQuietly(k); // not one of ours (or the launcher's start-up probe)
        return;
      }
      conn.launch = l;
      conn.stream = stream;
      if (stream == 0) {
        l.connected();
      }
    }
    if (buf.hasRemaining()) {
      int off = buf.arrayOffset() + buf.position();
      if (conn.stream == 0) {
        conn.launch.control(buf.array(), off, buf.remaining());
      } else {
        conn.launch.events.onOutput(conn.stream == 1, buf.array(), off, buf.remaining());
      }
    }
  }

  private static void closeQuietly(SelectionKey k) {
    k.cancel();
    try {
      k.channel().close();
    } catch (IOException e) {
      // closing a socket we are done with
    }
  }

  private static final class Conn {
    final ByteBuffer head = ByteBuffer.allocate(TOKEN_LINE);
    final long acceptedAt = System.nanoTime();
    boolean stranger = true; // counted in strangers until it presents a token or is closed
    Launch launch;
    int stream; // 0 control, 1 stdout, 2 stderr
  }
}
