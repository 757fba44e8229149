package io.workerpools.tentacle.internal;

import java.io.Closeable;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepted connections that have not authenticated yet, on their own small budget, apart from the
 * threads that serve authenticated traffic: at most {@code max} at once (a newer one evicts the
 * oldest, so strangers that connect and stay silent cannot lock anyone out), each on its own
 * handshake thread, each closed at an absolute deadline that dripping bytes cannot stretch. Both
 * the agent's listening port and the host's polling port use it.
 */
public final class HandshakeBudget implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(HandshakeBudget.class);

  /** The handshake (TLS, preamble, authorisation) of one admitted connection. */
  @FunctionalInterface
  public interface Handshake {
    /**
     * Runs on a handshake thread. Calls {@link Admission#authenticated()} once the peer is known;
     * on any failure closes the socket itself.
     */
    void run(Admission admission);
  }

  /** One connection in its handshake. */
  public final class Admission {
    private final Socket socket;
    private volatile ScheduledFuture<?> deadline;

    private Admission(Socket socket) {
      this.socket = socket;
    }

    /** The accepted socket. */
    public Socket socket() {
      return socket;
    }

    /**
     * Takes the connection out of the budget: it is authenticated and its deadline no longer
     * applies. Returns false if it was evicted or timed out meanwhile (its socket is then closed).
     */
    public boolean authenticated() {
      if (!remove(this)) {
        return false;
      }
      cancelDeadline();
      return !socket.isClosed();
    }

    private void cancelDeadline() {
      ScheduledFuture<?> d = deadline;
      if (d != null) {
        d.cancel(false);
      }
    }
  }

  private final String name;
  private final int max;
  private final Duration timeout;
  private final Set<Admission> pending = new LinkedHashSet<>();
  private final ThreadPoolExecutor threads;
  private final ScheduledThreadPoolExecutor deadlines;
  private final AtomicInteger threadNo = new AtomicInteger();
  private final AtomicLong evicted = new AtomicLong();
  private final AtomicLong timedOut = new AtomicLong();

  /**
   * @param name names the threads ({@code NAME-handshake-N}) and log lines
   * @param max the most connections in their handshake at once
   * @param timeout the longest a handshake may take in all, from accept to authentication
   */
  public HandshakeBudget(String name, int max, Duration timeout) {
    this.name = name;
    this.max = max;
    this.timeout = timeout;
    this.threads =
        new ThreadPoolExecutor(
            max,
            max,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, name + "-handshake-" + threadNo.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    threads.allowCoreThreadTimeOut(true);
    this.deadlines =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name + "-handshake-deadline");
              t.setDaemon(true);
              return t;
            });
    deadlines.setRemoveOnCancelPolicy(true);
  }

  /** The handshake deadline, for read timeouts inside it. */
  public Duration timeout() {
    return timeout;
  }

  /** Admits an accepted socket (called by the acceptor thread); never blocks. */
  public void admit(Socket socket, Handshake handshake) {
    Admission a = new Admission(socket);
    Admission oldest = null;
    synchronized (pending) {
      if (pending.size() >= max) {
        oldest = pending.iterator().next();
        pending.remove(oldest);
      }
      pending.add(a);
    }
    if (oldest != null) {
      evicted.incrementAndGet();
      LOG.debug(
          "{}: closed a connection from {} still in its handshake: {} newer connections wait",
          name,
          oldest.socket.getRemoteSocketAddress(),
          max);
      oldest.cancelDeadline();
      closeQuietly(oldest.socket);
    }
    try {
      a.deadline =
          deadlines.schedule(
              () -> {
                if (remove(a)) {
                  timedOut.incrementAndGet();
                  closeQuietly(a.socket);
                }
              },
              timeout.toMillis(),
              TimeUnit.MILLISECONDS);
      threads.execute(() -> run(a, handshake));
    } catch (RejectedExecutionException e) {
      remove(a); // only after close()
      a.cancelDeadline();
      closeQuietly(socket);
    }
  }

  private void run(Admission a, Handshake handshake) {
    if (a.socket.isClosed()) {
      return; // evicted while queued
    }
    try {
      handshake.run(a);
    } catch (RuntimeException e) {
      LOG.warn("{}: a handshake failed unexpectedly", name, e);
      closeQuietly(a.socket);
    } finally {
      if (remove(a)) {
        // The handshake ended without authenticating: it must not hold a place any longer.
        a.cancelDeadline();
      }
    }
  }

  private boolean remove(Admission a) {
    synchronized (pending) {
      return pending.remove(a);
    }
  }

  /** Connections closed to make room for newer ones. */
  public long evicted() {
    return evicted.get();
  }

  /** Connections closed at their handshake deadline. */
  public long timedOut() {
    return timedOut.get();
  }

  /** Connections in their handshake now. */
  public int pending() {
    synchronized (pending) {
      return pending.size();
    }
  }

  static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    threads.shutdownNow();
    deadlines.shutdownNow();
    synchronized (pending) {
      for (Admission a : pending) {
        closeQuietly(a.socket);
      }
      pending.clear();
    }
  }
}
