package io.workerpools.ssh.internal;

import io.workerpools.TransportException;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.ssh.SshEndpoint;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker's SSH session and its channel slots. The session is made on first use, reused by every
 * step, and made again on the next use after it died. Channels are granted first come, first served
 * up to the limit, keeping one spare for control commands (kill, health), which are served first. A
 * channel the server refuses ("open failed": its {@code MaxSessions}) lowers the limit to what is
 * open and puts the request back in the queue: saturation, not failure.
 *
 * <p>Thread-safe. Grants and failures are handed to {@link SlotUser}s outside the lock.
 */
public final class WorkerConnection {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerConnection.class);

  /** Someone waiting for a channel slot. */
  public interface SlotUser {
    /** A slot on this open session is yours; call {@link #release()} exactly once when done. */
    void granted(ClientSession session);

    /** No session could be made. */
    void failed(TransportException error);
  }

  private final TransportContext ctx;
  private final WorkerId workerId;
  private final Object lock = new Object();
  private final ArrayDeque<SlotUser> controlWaiters = new ArrayDeque<>();
  private final ArrayDeque<SlotUser> stepWaiters = new ArrayDeque<>();
  private Worker worker;
  private SshEndpoint endpoint;
  private ClientSession session;
  private boolean connecting;
  private int inUse;
  private int limit;
  private boolean closed;

  public WorkerConnection(TransportContext ctx, Worker worker, SshEndpoint endpoint) {
    this.ctx = ctx;
    this.workerId = worker.id();
    this.worker = worker;
    this.endpoint = endpoint;
    this.limit = endpoint.maxChannels().orElse(ctx.maxChannels());
  }

  /** Takes a changed worker configuration; a changed endpoint closes the old session. */
  public void update(Worker w, SshEndpoint ep) {
    ClientSession old = null;
    synchronized (lock) {
      this.worker = w;
      if (!ep.equals(endpoint)) {
        this.endpoint = ep;
        this.limit = ep.maxChannels().orElse(ctx.maxChannels());
        old = session;
        session = null;
      }
    }
    if (old != null) {
      old.close(false);
    }
  }

  public SshEndpoint endpoint() {
    synchronized (lock) {
      return endpoint;
    }
  }

  public WorkerId workerId() {
    return workerId;
  }

  /** Queues for a slot: a step slot, or a control slot (may use the spare channel). */
  public void acquire(boolean control, SlotUser user) {
    boolean isClosed;
    synchronized (lock) {
      isClosed = closed;
      if (!isClosed) {
        (control ? controlWaiters : stepWaiters).add(user);
      }
    }
    if (isClosed) {
      user.failed(new TransportException(workerId, "the SSH transport is closed", false, null));
      return;
    }
    pump();
  }

  /** Puts a refused channel's user back at the head of its queue and lowers the limit. */
  public void saturated(boolean control, SlotUser user) {
    boolean fail = false;
    synchronized (lock) {
      inUse--;
      if (inUse == 0) {
        fail = true;
      } else {
        int newLimit = Math.max(2, inUse);
        if (newLimit < limit) {
          LOG.info(
              "worker {}: the server refused channel {}; lowering its channel limit to {}",
              workerId,
              inUse + 1,
              newLimit);
          limit = newLimit;
        }
        (control ? controlWaiters : stepWaiters).addFirst(user);
      }
    }
    if (fail) {
      user.failed(
          new TransportException(
              workerId, "the server refused to open a channel on an idle session", null));
    } else {
      pump();
    }
  }

  /** Removes a waiting user; true if it was still waiting. */
  public boolean cancelWaiting(SlotUser user) {
    synchronized (lock) {
      return stepWaiters.remove(user) || controlWaiters.remove(user);
    }
  }

  /** Gives back a granted slot. */
  public void release() {
    synchronized (lock) {
      inUse--;
    }
    pump();
  }

  /** The session if one is open now (for tests and health details). */
  public boolean hasOpenSession() {
    synchronized (lock) {
      return session != null && session.isOpen();
    }
  }

  private void pump() {
    List<SlotUser> grants = new ArrayList<>();
    ClientSession s;
    synchronized (lock) {
      if (closed) {
        return;
      }
      s = session;
      if (s == null || !s.isOpen() || s.isClosing()) {
        session = null;
        if (!connecting && !(controlWaiters.isEmpty() && stepWaiters.isEmpty())) {
          connecting = true;
          SshEndpoint ep = endpoint;
          Worker w = worker;
          ctx.executor().execute(() -> connect(w, ep));
        }
        return;
      }
      while (!controlWaiters.isEmpty() && inUse < limit) {
        grants.add(controlWaiters.poll());
        inUse++;
      }
      while (!stepWaiters.isEmpty() && inUse < limit - 1) {
        grants.add(stepWaiters.poll());
        inUse++;
      }
    }
    for (SlotUser u : grants) {
      try {
        u.granted(s);
      } catch (RuntimeException e) {
        LOG.error("worker {}: a slot user failed", workerId, e);
      }
    }
  }

  private void connect(Worker w, SshEndpoint ep) {
    ClientSession s = null;
    TransportException error = null;
    try {
      s = SessionOpener.open(ctx, workerId, w, ep);
    } catch (TransportException e) {
      error = e;
    } catch (RuntimeException e) {
      error = new TransportException(workerId, "cannot connect: " + e.getMessage(), false, e);
    }
    List<SlotUser> failed = new ArrayList<>();
    synchronized (lock) {
      connecting = false;
      if (closed) {
        if (s != null) {
          s.close(true);
        }
        return;
      }
      if (s != null) {
        session = s;
        limit = ep.maxChannels().orElse(ctx.maxChannels());
        ClientSession opened = s;
        s.addCloseFutureListener(f -> onSessionClosed(opened));
      } else {
        failed.addAll(controlWaiters);
        failed.addAll(stepWaiters);
        controlWaiters.clear();
        stepWaiters.clear();
      }
    }
    for (SlotUser u : failed) {
      u.failed(error);
    }
    pump();
  }

  private void onSessionClosed(ClientSession s) {
    synchronized (lock) {
      if (session == s) {
        session = null;
      }
    }
    LOG.debug("worker {}: session closed", workerId);
    pump();
  }

  /** Result of a control command. */
  public record ControlResult(Integer exitStatus, String stdout) {}

  /**
   * Runs a constant command on a control slot (may use the spare channel), with {@code stdin} as
   * its input; completes with its exit status and output, or exceptionally with a {@link
   * TransportException}.
   */
  public CompletableFuture<ControlResult> runControl(String command, byte[] stdin) {
    CompletableFuture<ControlResult> done = new CompletableFuture<>();
    acquire(
        true,
        new SlotUser() {
          private int attempts;

          @Override
          public void granted(ClientSession s) {
            SlotUser self = this;
            ChannelExec ch;
            try {
              ch = s.createExecChannel(command);
            } catch (Exception e) {
              release();
              done.completeExceptionally(
                  new TransportException(
                      workerId, "cannot open a channel: " + SessionOpener.describe(e), e));
              return;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ch.setOut(out);
            ch.setErr(OutputStream.nullOutputStream());
            try {
              ch.open()
                  .addListener(
                      of -> {
                        if (!of.isOpened()) {
                          Throwable ex = of.getException();
                          if (ex instanceof SshChannelOpenException && ++attempts < 50) {
                            saturated(true, self);
                          } else {
                            release();
                            done.completeExceptionally(
                                new TransportException(
                                    workerId,
                                    "cannot open a channel: " + SessionOpener.describe(ex),
                                    ex));
                          }
                          return;
                        }
                        ch.addCloseFutureListener(
                            cf -> {
                              release();
                              Integer st = ch.getExitStatus();
                              if (st == null && !s.isOpen()) {
                                done.completeExceptionally(
                                    new TransportException(
                                        workerId, "the connection closed during a command", null));
                              } else {
                                done.complete(
                                    new ControlResult(
                                        st, new String(out.toByteArray(), StandardCharsets.UTF_8)));
                              }
                            });
                        ctx.executor()
                            .execute(
                                () -> {
                                  try (OutputStream in = ch.getInvertedIn()) {
                                    in.write(stdin);
                                    in.flush();
                                  } catch (Exception e) {
                                    LOG.debug("worker {}: control stdin failed", workerId, e);
                                  }
                                });
                      });
            } catch (Exception e) {
              release();
              done.completeExceptionally(
                  new TransportException(
                      workerId, "cannot open a channel: " + SessionOpener.describe(e), e));
            }
          }

          @Override
          public void failed(TransportException error) {
            done.completeExceptionally(error);
          }
        });
    return done;
  }

  /** Closes the session and fails every waiter. */
  public void close() {
    List<SlotUser> failed = new ArrayList<>();
    ClientSession s;
    synchronized (lock) {
      closed = true;
      s = session;
      session = null;
      failed.addAll(controlWaiters);
      failed.addAll(stepWaiters);
      controlWaiters.clear();
      stepWaiters.clear();
    }
    TransportException e =
        new TransportException(workerId, "the SSH transport closed", false, null);
    for (SlotUser u : failed) {
      u.failed(e);
    }
    if (s != null) {
      s.close(false);
    }
  }
}
