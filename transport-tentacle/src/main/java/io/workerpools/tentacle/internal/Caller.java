package io.workerpools.tentacle.internal;

import io.workerpools.AuthenticationException;
import io.workerpools.TransportException;
import io.workerpools.model.WorkerId;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Request/reply calls to an agent: one attempt ({@link #once}) whose reply is checked (its type is
 * the request's, its body parses and passes {@link Replies}), or a retried call ({@link #call}) for
 * idempotent requests: network errors are retried with back-off within the retry window, never an
 * authentication failure, a refusal or a protocol error.
 */
public final class Caller {
  private static final Logger LOG = LoggerFactory.getLogger(Caller.class);

  /** An error reply from the agent (a bad request): not retried. */
  public static final class RemoteError extends Exception {
    private static final long serialVersionUID = 1L;

    RemoteError(String message) {
      super(message);
    }
  }

  /** Whether a failure may have happened after a request left (a transferring failure). */
  public static final class Attempts {
    /** Set once any attempt may have reached the agent. */
    public boolean transferred;
  }

  private final CallSettings settings;

  public Caller(CallSettings settings) {
    this.settings = settings;
  }

  /** The settings. */
  public CallSettings settings() {
    return settings;
  }

  /**
   * One attempt: the reply must arrive within {@code hold + callTimeout}; {@code ticket}, if not
   * null, must be the reply's.
   */
  public <T> T once(
      Target t,
      String type,
      Object body,
      Class<T> replyType,
      String ticket,
      Duration hold,
      Duration collect)
      throws IOException, RemoteError {
    byte[] reply = t.exchange(Wire.request(type, body), hold.plus(settings.callTimeout()), collect);
    Wire.Reply r = Wire.decodeReply(reply);
    if (r.error() != null) {
      throw new RemoteError("the agent refused '" + type + "': " + r.error());
    }
    if (!type.equals(r.type())) {
      throw new ProtocolViolationException(
          "the agent answered a '" + type + "' request with a '" + r.type() + "' reply", false);
    }
    T value = Wire.body(r, replyType);
    Replies.check(type, value, ticket);
    return value;
  }

  /**
   * A retried call (idempotent requests only).
   *
   * @throws AuthenticationException if either side refused the other's certificate
   * @throws TransportException for everything else; retryable if it was a network error
   */
  public <T> T call(
      WorkerId workerId,
      Target t,
      String type,
      Object body,
      Class<T> replyType,
      String ticket,
      Duration hold,
      Attempts at) {
    long deadline = System.nanoTime() + settings.retryWindow().toNanos();
    long backoff = 50;
    while (true) {
      try {
        return once(t, type, body, replyType, ticket, hold, settings.collectTimeout());
      } catch (PeerConnection.PeerAuthenticationFailure e) {
        throw new AuthenticationException(workerId, e.getMessage(), e);
      } catch (RemoteError e) {
        throw new TransportException(workerId, e.getMessage(), false, e);
      } catch (ProtocolViolationException e) {
        at.transferred = true; // a reply came: the request arrived
        throw new TransportException(workerId, "protocol error: " + e.getMessage(), false, e);
      } catch (IOException e) {
        boolean connecting = e instanceof PeerConnection.ConnectFailure;
        if (!connecting) {
          at.transferred = true;
        }
        boolean collectTimeout = connecting && t.polling();
        if (collectTimeout
            || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) > deadline) {
          throw new TransportException(workerId, e.getMessage(), true, e);
        }
        LOG.debug("retrying '{}' on worker {} after: {}", type, workerId, e.getMessage());
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoff));
        backoff = Math.min(2000, backoff * 2);
      }
    }
  }
}
