package io.workerpools.ssh.internal;

import io.workerpools.AuthenticationException;
import io.workerpools.TransportException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.ssh.SshCredentials;
import io.workerpools.ssh.SshEndpoint;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
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
      s = open(w, ep);
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

  private ClientSession open(Worker w, SshEndpoint ep) {
    Duration timeout = ctx.connectTimeout();
    long deadline = System.nanoTime() + timeout.toNanos();
    SshCredentials creds;
    try {
      creds = ctx.credentials().credentials(ep.credentialsId(), w);
    } catch (RuntimeException e) {
      throw new AuthenticationException(
          workerId,
          "the credential provider failed for credentials '"
              + ep.credentialsId()
              + "': "
              + e.getMessage(),
          e);
    }
    if (creds == null) {
      throw new AuthenticationException(
          workerId,
          "the credential provider has no credentials '" + ep.credentialsId() + "'",
          null);
    }
    List<KeyPair> keys =
        creds instanceof SshCredentials.PrivateKey
            ? loadKeys((SshCredentials.PrivateKey) creds, ep)
            : List.of();
    HostKeyVerification.Attempt attempt = new HostKeyVerification.Attempt(ep);
    ClientSession s;
    try {
      ConnectFuture cf = ctx.client().connect(ep.user(), ep.host(), ep.port(), attempt.context());
      s = cf.verify(timeout).getSession();
    } catch (Exception e) {
      throw new TransportException(
          workerId,
          "cannot connect to " + ep.hostAndPort() + " within " + timeout + ": " + describe(e),
          e);
    }
    try {
      if (creds instanceof SshCredentials.Password) {
        s.addPasswordIdentity(((SshCredentials.Password) creds).password());
      }
      for (KeyPair k : keys) {
        s.addPublicKeyIdentity(k);
      }
      long left = Math.max(1, deadline - System.nanoTime());
      s.auth().verify(Duration.ofNanos(left));
      return s;
    } catch (Exception e) {
      s.close(true);
      HostKeyVerification.Rejection r = attempt.rejection();
      if (r != null) {
        throw new AuthenticationException(workerId, hostKeyMessage(ep, r), e);
      }
      if (e instanceof SshException && String.valueOf(e.getMessage()).contains("authentication")) {
        throw new AuthenticationException(
            workerId,
            ep.hostAndPort()
                + " refused user '"
                + ep.user()
                + "' with credentials '"
                + ep.credentialsId()
                + "' ("
                + describe(e)
                + "); check that the key is in the user's authorized_keys or the password is right",
            e);
      }
      throw new TransportException(
          workerId, "cannot log in to " + ep.hostAndPort() + ": " + describe(e), e);
    }
  }

  static String hostKeyMessage(SshEndpoint ep, HostKeyVerification.Rejection r) {
    String where = ep.hostAndPort();
    String presented = r.keyType() + " key " + r.fingerprint();
    if (ep.pinnedFingerprint().isPresent()) {
      return "host key verification failed for "
          + where
          + ": the server presented "
          + presented
          + " but the endpoint pins "
          + ep.pinnedFingerprint().get()
          + ". If the server's key was replaced on purpose, set endpoint property '"
          + SshEndpoint.HOST_KEY
          + "' to "
          + r.fingerprint()
          + " (check it on the server with: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub).";
    }
    String file = ep.knownHosts().orElseThrow().toString();
    String hostEntry = ep.port() == 22 ? ep.host() : "[" + ep.host() + "]:" + ep.port();
    if (r.changed()) {
      return "host key verification failed for "
          + where
          + ": the HOST KEY HAS CHANGED. The server presented "
          + presented
          + ", which differs from the key for "
          + hostEntry
          + " in "
          + file
          + ". Someone may be intercepting the connection. If the key was replaced on purpose"
          + " (check it on the server with: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), remove"
          + " the old entry (ssh-keygen -R '"
          + hostEntry
          + "' -f "
          + file
          + ") and add the new one, or pin it with endpoint property '"
          + SshEndpoint.HOST_KEY
          + "' = "
          + r.fingerprint()
          + ".";
    }
    return "host key verification failed for "
        + where
        + ": the server presented "
        + presented
        + ", which is not in the known-hosts file "
        + file
        + ". If that is the server's key (check it on the server with: ssh-keygen -lf"
        + " /etc/ssh/ssh_host_*_key.pub), add it (ssh-keyscan -p "
        + ep.port()
        + " "
        + ep.host()
        + " >> "
        + file
        + "), or pin it with endpoint property '"
        + SshEndpoint.HOST_KEY
        + "' = "
        + r.fingerprint()
        + ".";
  }

  private List<KeyPair> loadKeys(SshCredentials.PrivateKey key, SshEndpoint ep) {
    String name = "credentials '" + ep.credentialsId() + "'";
    FilePasswordProvider pass =
        key.passphrase().map(FilePasswordProvider::of).orElse(FilePasswordProvider.EMPTY);
    try (InputStream in =
        key.file().isPresent()
            ? Files.newInputStream(key.file().get())
            : new ByteArrayInputStream(key.keyText().get().getBytes(StandardCharsets.UTF_8))) {
      Iterable<KeyPair> pairs =
          SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(name), in, pass);
      List<KeyPair> out = new ArrayList<>();
      if (pairs != null) {
        Iterator<KeyPair> it = pairs.iterator();
        while (it.hasNext()) {
          out.add(it.next());
        }
      }
      if (out.isEmpty()) {
        throw new AuthenticationException(
            workerId, "the private key of " + name + " holds no key", null);
      }
      return out;
    } catch (WorkerPoolsException e) {
      throw e;
    } catch (Exception e) {
      throw new AuthenticationException(
          workerId,
          "cannot read the private key of "
              + name
              + (key.passphrase().isPresent()
                  ? " (is the passphrase right?)"
                  : " (does it need a passphrase?)")
              + ": "
              + describe(e),
          e);
    }
  }

  static String describe(Throwable e) {
    Throwable t = e;
    String msg = null;
    while (t != null) {
      if (t.getMessage() != null) {
        msg = t.getClass().getSimpleName() + ": " + t.getMessage();
      }
      if (t.getCause() == null || t.getCause() == t) {
        break;
      }
      t = t.getCause();
    }
    return msg == null ? e.getClass().getSimpleName() : msg;
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
                  new TransportException(workerId, "cannot open a channel: " + describe(e), e));
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
                                    workerId, "cannot open a channel: " + describe(ex), ex));
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
                  new TransportException(workerId, "cannot open a channel: " + describe(e), e));
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
