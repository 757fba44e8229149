package io.workerpools.benchmarks;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy on 127.0.0.1 that forwards each of its ports to one target, on one selector thread,
 * and can cut every forwarded connection at once (what a proxy or NAT restart does to a fleet of
 * agents). It records when each connection was accepted, so that a harness can draw the histogram
 * of reconnects after a cut. Bench use only: it trusts its peers and its buffers are small.
 */
final class CutProxy implements Closeable {
  private static final int BUFFER = 64 * 1024;

  private final Selector selector;
  private final Thread loop;
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final List<SocketChannel> open = new ArrayList<>();
  private final ConcurrentLinkedQueue<Long> accepts = new ConcurrentLinkedQueue<>();
  private volatile boolean closed;

  /** One forwarded pair's end: where its bytes go, and what is still waiting to be written. */
  private static final class End {
    final SocketChannel self;
    End peer;
    final ByteBuffer pending = ByteBuffer.allocate(BUFFER);

    End(SocketChannel self) {
      this.self = self;
    }
  }

  CutProxy() throws IOException {
    selector = Selector.open();
    loop = new Thread(this::run, "cut-proxy");
    loop.setDaemon(true);
    loop.start();
  }

  /** Opens a port on 127.0.0.1 that forwards to {@code target}; returns its address. */
  InetSocketAddress forward(InetSocketAddress target) throws IOException {
    ServerSocketChannel s = ServerSocketChannel.open();
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    s.configureBlocking(false);
    CountDownLatch done = new CountDownLatch(1);
    submit(
        () -> {
          try {
            s.register(selector, SelectionKey.OP_ACCEPT, target);
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
          done.countDown();
        });
    await(done);
    return (InetSocketAddress) s.getLocalAddress();
  }

  /** Closes every forwarded connection at once; returns how many pairs were cut. */
  int cutAll() {
    int[] n = new int[1];
    CountDownLatch done = new CountDownLatch(1);
    submit(
        () -> {
          n[0] = open.size() / 2;
          for (SocketChannel c : open) {
            closeQuietly(c);
          }
          open.clear();
          done.countDown();
        });
    await(done);
    return n[0];
  }

  /** The {@link System#nanoTime()} of each accepted connection since the last call, and clears. */
  List<Long> drainAccepts() {
    List<Long> out = new ArrayList<>();
    Long t;
    while ((t = accepts.poll()) != null) {
      out.add(t);
    }
    return out;
  }

  private void submit(Runnable r) {
    tasks.add(r);
    selector.wakeup();
  }

  private static void await(CountDownLatch l) {
    try {
      if (!l.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the proxy loop did not answer within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void run() {
    while (!closed) {
      try {
        selector.select(1000);
        Runnable r;
        while ((r = tasks.poll()) != null) {
          r.run();
        }
        for (SelectionKey k : selector.selectedKeys()) {
          if (!k.isValid()) {
            continue;
          }
          if (k.isAcceptable()) {
            accept(k);
          } else {
            pump(k);
          }
        }
        selector.selectedKeys().clear();
      } catch (IOException | RuntimeException e) {
        if (!closed) {
          System.err.println("cut-proxy: " + e);
        }
      }
    }
  }

  private void accept(SelectionKey k) throws IOException {
    SocketChannel in = ((ServerSocketChannel) k.channel()).accept();
    if (in == null) {
      return;
    }
    accepts.add(System.nanoTime());
    SocketChannel out;
    try {
      out = SocketChannel.open((InetSocketAddress) k.attachment());
    } catch (IOException e) {
      closeQuietly(in);
      return;
    }
    for (SocketChannel c : List.of(in, out)) {
      c.configureBlocking(false);
      c.setOption(StandardSocketOptions.TCP_NODELAY, true);
      open.add(c);
    }
    End a = new End(in);
    End b = new End(out);
    a.peer = b;
    b.peer = a;
    in.register(selector, SelectionKey.OP_READ, a);
    out.register(selector, SelectionKey.OP_READ, b);
  }

  /** Reads what one end has and writes it to the other; closes both at end of stream or error. */
  private void pump(SelectionKey k) {
    End e = (End) k.attachment();
    try {
      if (k.isWritable()) {
        // e's own pending output (from its peer) can go now
        e.pending.flip();
        e.self.write(e.pending);
        e.pending.compact();
        if (e.pending.position() == 0) {
          k.interestOps(SelectionKey.OP_READ);
          e.peer.self.keyFor(selector).interestOps(SelectionKey.OP_READ);
        }
        return;
      }
      ByteBuffer buf = e.peer.pending;
      int n = e.self.read(buf);
      if (n < 0) {
        throw new IOException("end of stream");
      }
      buf.flip();
      e.peer.self.write(buf);
      buf.compact();
      if (buf.position() > 0) {
        // the peer is slow: stop reading here until it drained
        k.interestOps(0);
        e.peer.self.keyFor(selector).interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
      }
    } catch (IOException | RuntimeException x) {
      open.remove(e.self);
      open.remove(e.peer.self);
      closeQuietly(e.self);
      closeQuietly(e.peer.self);
    }
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    selector.wakeup();
    try {
      loop.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (SelectionKey k : selector.keys()) {
      closeQuietly(k.channel());
    }
    closeQuietly(selector);
  }
}
