package io.workerpools.tentacle.internal;

import io.workerpools.ConfigurationException;
import io.workerpools.model.WorkerId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;

/** The two kinds of {@link Target}: a listening agent's pooled connections, a polling queue. */
public final class Targets {
  private Targets() {}

  /** Calls over pooled connections to a listening agent pinned to {@code thumbprint}. */
  public static Target listening(ListeningPool pool, InetSocketAddress address, String thumbprint) {
    return new Target() {
      @Override
      public byte[] exchange(byte[] request, Duration replyTimeout, Duration collectTimeout)
          throws IOException {
        PeerConnection c = pool.acquire(address, thumbprint);
        boolean reused = c.used();
        try {
          byte[] reply = c.exchange(request, replyTimeout);
          pool.release(address, thumbprint, c);
          return reply;
        } catch (IOException | RuntimeException ex) {
          c.close();
          if (!reused
              || ex instanceof ProtocolViolationException
              || ex instanceof RuntimeException) {
            throw ex;
          }
          // A pooled connection died under this call: its siblings were likely cut with it.
          pool.suspectAll(address, thumbprint);
          if (!c.lastRequestUnwritten()) {
            throw ex; // the agent may have read it: only the caller may decide to retry
          }
        }
        // The request was provably never delivered: once more, on a new connection.
        PeerConnection f = pool.fresh(address, thumbprint);
        try {
          byte[] reply = f.exchange(request, replyTimeout);
          pool.release(address, thumbprint, f);
          return reply;
        } catch (IOException | RuntimeException ex) {
          f.close();
          throw ex;
        }
      }

      @Override
      public PeerConnection direct() throws IOException {
        return pool.acquire(address, thumbprint);
      }

      @Override
      public void release(PeerConnection c) {
        pool.release(address, thumbprint, c);
      }

      @Override
      public boolean polling() {
        return false;
      }
    };
  }

  /**
   * Queues one request for a subscription's local connections and waits for its reply (the queue
   * completes it by the collect timeout, or by the reply timeout once collected).
   */
  static byte[] queued(
      PollingListener l,
      String subscription,
      byte[] request,
      Duration collectTimeout,
      Duration replyTimeout)
      throws IOException {
    PollingListener.Pending p = l.send(subscription, request, collectTimeout, replyTimeout);
    try {
      return p.reply().get();
    } catch (InterruptedException ex) {
      p.cancel();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for the polling agent", ex);
    } catch (CancellationException ex) {
      throw new IOException("the request was cancelled", ex);
    } catch (ExecutionException ex) {
      if (ex.getCause() instanceof IOException) {
        throw (IOException) ex.getCause();
      }
      throw new IOException(ex.getCause());
    }
  }

  /** Calls queued for a polling subscription's agent. */
  public static Target polling(PollingListener l, String subscription, WorkerId worker) {
    return new Target() {
      @Override
      public byte[] exchange(byte[] request, Duration replyTimeout, Duration collectTimeout)
          throws IOException {
        return queued(l, subscription, request, collectTimeout, replyTimeout);
      }

      @Override
      public PeerConnection direct() {
        throw new ConfigurationException(
            "worker " + worker, "file transfer to polling agents is not supported yet");
      }

      @Override
      public void release(PeerConnection c) {}

      @Override
      public boolean polling() {
        return true;
      }
    };
  }
}
