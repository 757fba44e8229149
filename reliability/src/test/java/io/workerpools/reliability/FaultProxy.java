package io.workerpools.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 that sits between a host and an agent and misbehaves on request: it can
 * stall all traffic (bytes stop moving both ways until {@link #resume()}), cut every open
 * connection at once, or corrupt one byte of the next chunk that passes through (TLS then refuses
 * the record and the connection dies). The target can be moved, so that an agent restarted on
 * another port is reached through the same proxy address.
 *
 * <p>A test utility: two pump threads per open connection plus one acceptor; {@link #close()}
 * closes every socket and waits (bounded) for its threads to end.
 */
final class FaultProxy implements AutoCloseable {
  private static final AtomicInteger IDS = new AtomicInteger();

  private final String name;
  private final ServerSocket server;
  private final Thread acceptor;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
  private final Object stallLock = new Object();
  private final AtomicBoolean corruptNext = new AtomicBoolean();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong corrupted = new AtomicLong();
  private volatile InetSocketAddress target;
  private volatile boolean stalled;
  private volatile boolean closed;

  FaultProxy(String name, InetSocketAddress target) throws IOException {
    this.name = name + "-" + IDS.incrementAndGet();
    this.target = target;
    this.server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::acceptLoop, "soak-proxy-accept-" + this.name);
    acceptor.setDaemon(true);
    threads.add(acceptor);
    acceptor.start();
  }

  /** Where clients connect: 127.0.0.1 and a port chosen at bind time. */
  InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }

  /** Sends new connections to another target (open ones keep theirs). */
  void retarget(InetSocketAddress newTarget) {
    this.target = newTarget;
  }

  /** Stops moving bytes, both ways, on every connection, until {@link #resume()}. */
  void stall() {
    stalled = true;
  }

  /** Moves bytes again after {@link #stall()}. */
  void resume() {
    synchronized (stallLock) {
      stalled = false;
      stallLock.notifyAll();
    }
  }

  boolean isStalled() {
    return stalled;
  }

  /** Closes every open connection at once; returns how many sockets were closed. */
  int cutAll() {
    List<Socket> open = List.copyOf(sockets);
    for (Socket s : open) {
      closeQuietly(s);
    }
    return open.size();
  }

  /** Flips one byte of the next chunk that passes through, in whichever direction comes first. */
  void corruptNextChunk() {
    corruptNext.set(true);
  }

  /** Connections accepted so far. */
  long accepted() {
    return accepted.get();
  }

  /** Chunks corrupted so far. */
  long corrupted() {
    return corrupted.get();
  }

  /** Open sockets (client and upstream sides). */
  int openSockets() {
    return sockets.size();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      accepted.incrementAndGet();
      sockets.add(client);
      Socket upstream = new Socket();
      sockets.add(upstream);
      try {
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        upstream.connect(target, 2000);
      } catch (IOException e) {
        closeQuietly(client);
        closeQuietly(upstream);
        continue;
      }
      if (closed) {
        closeQuietly(client);
        closeQuietly(upstream);
        return;
      }
      pump(client, upstream, "up");
      pump(upstream, client, "down");
    }
  }

  private void pump(Socket from, Socket to, String direction) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16 * 1024];
              try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                  awaitNotStalled();
                  if (closed) {
                    break;
                  }
                  if (n > 0 && corruptNext.compareAndSet(true, false)) {
                    buf[n / 2] ^= 0x5A;
                    corrupted.incrementAndGet();
                  }
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (SocketException e) {
                // cut, or the peer went away
              } catch (IOException e) {
                // the same
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                threads.remove(Thread.currentThread());
              }
            },
            "soak-proxy-" + direction + "-" + name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  private void awaitNotStalled() {
    synchronized (stallLock) {
      while (stalled && !closed) {
        try {
          stallLock.wait(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private void closeQuietly(Socket s) {
    sockets.remove(s);
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** Closes the listening socket and every connection; waits up to 5 s for its threads to end. */
  @Override
  public void close() {
    closed = true;
    resume();
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    cutAll();
    long deadline = System.nanoTime() + 5_000_000_000L;
    for (Thread t : List.copyOf(threads)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        t.join(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public String toString() {
    return "FaultProxy[" + name + " " + address() + " -> " + target + "]";
  }
}
