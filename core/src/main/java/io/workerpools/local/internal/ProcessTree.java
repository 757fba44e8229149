package io.workerpools.local.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills a script's whole process tree. A script started through {@code setsid} leads its own
 * process group (its pid is the group id), so one SIGKILL to the group reaches every process it
 * started, including orphans whose parent already exited and which {@link
 * ProcessHandle#descendants()} can no longer see. Descendants that left the group (a script calling
 * {@code setsid} itself) are killed through {@link ProcessHandle} as well.
 *
 * <p>The JDK cannot signal a process group. Rather than spawn {@code kill} each time (a process
 * spawn per step, as expensive as the step's own), a small long-lived helper — {@code bash} reading
 * group ids on its stdin and signalling them with its builtin {@code kill}, no fork — does it for a
 * pipe write. If the helper cannot start or dies, {@code kill} is spawned instead.
 */
public final class ProcessTree implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessTree.class);
  private static final String HELPER =
      "while IFS= read -r g; do kill -KILL -- \"-$g\" 2>/dev/null; echo \"$g\"; done";

  private final Optional<Path> kill;
  private final Optional<Path> bash;
  private final Object lock = new Object();
  private final ConcurrentLinkedQueue<CompletableFuture<Void>> acks = new ConcurrentLinkedQueue<>();
  private Process helper; // guarded by lock
  private OutputStream helperIn; // guarded by lock
  private boolean helperFailed; // guarded by lock
  private volatile boolean closed;

  public ProcessTree(Optional<Path> kill, Optional<Path> bash) {
    this.kill = kill;
    this.bash = bash;
  }

  /** Whether process groups can be signalled here. */
  public boolean canKillGroups() {
    return kill.isPresent() || bash.isPresent();
  }

  /**
   * Sends SIGKILL to the process group led by {@code root} (when {@code ownGroup}) and to every
   * live descendant of {@code root}. Blocks for the moment signalling takes; call it from a
   * transport thread.
   */
  public void killAll(ProcessHandle root, boolean ownGroup) {
    List<ProcessHandle> descendants = root.descendants().toList();
    if (ownGroup) {
      killGroup(root.pid());
    }
    root.destroyForcibly();
    for (ProcessHandle h : descendants) {
      h.destroyForcibly();
    }
  }

  /** Sends SIGKILL to a process group (which may outlive its leader). Blocks until it is sent. */
  public void killGroup(long groupId) {
    CompletableFuture<Void> ack = viaHelper(groupId);
    if (ack != null) {
      try {
        ack.get(5, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        LOG.warn("the process-group helper did not answer; spawning kill instead", e);
        stopHelper(true);
      }
    }
    spawnKill(groupId);
  }

  /**
   * Asks for SIGKILL to a process group without waiting for it to be sent: a pipe write to the
   * helper, or a spawned {@code kill} on {@code fallback} if there is no helper. For the end of a
   * script, where nothing needs to wait for the signal (the output pipes close when it lands).
   */
  public void killGroupSoon(long groupId, java.util.concurrent.Executor fallback) {
    if (viaHelper(groupId) != null) {
      return;
    }
    try {
      fallback.execute(() -> spawnKill(groupId));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      spawnKill(groupId);
    }
  }

  private CompletableFuture<Void> viaHelper(long groupId) {
    synchronized (lock) {
      if (closed || helperFailed || bash.isEmpty()) {
        return null;
      }
      try {
        if (helper == null || !helper.isAlive()) {
          startHelper();
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        acks.add(f);
        helperIn.write((groupId + "\n").getBytes(StandardCharsets.US_ASCII));
        helperIn.flush();
        return f;
      } catch (IOException e) {
        LOG.warn("the process-group helper failed; spawning kill from now on", e);
        helperFailed = true;
        failAcks();
        return null;
      }
    }
  }

  private void startHelper() throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(bash.get().toString(), "--norc", "--noprofile", "-c", HELPER)
            .redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().clear(); // it needs nothing, and scripts of this user could read it
    Process p = pb.start();
    helper = p;
    helperIn = p.getOutputStream();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII))) {
                while (r.readLine() != null) {
                  CompletableFuture<Void> f = acks.poll();
                  if (f != null) {
                    f.complete(null);
                  }
                }
              } catch (IOException e) {
                LOG.debug("process-group helper output ended", e);
              }
              synchronized (lock) {
                if (helper == p) {
                  helper = null;
                  failAcks();
                }
              }
            },
            "workerpools-local-killer");
    reader.setDaemon(true);
    reader.start();
  }

  private void failAcks() {
    CompletableFuture<Void> f;
    while ((f = acks.poll()) != null) {
      f.completeExceptionally(new IOException("process-group helper ended"));
    }
  }

  private void stopHelper(boolean failed) {
    synchronized (lock) {
      helperFailed |= failed;
      if (helper != null) {
        helper.destroyForcibly();
        helper = null;
      }
      failAcks();
    }
  }

  private void spawnKill(long groupId) {
    if (kill.isEmpty()) {
      LOG.warn("cannot signal process group {}: no 'kill' on PATH", groupId);
      return;
    }
    try {
      Process p =
          new ProcessBuilder(kill.get().toString(), "-KILL", "--", "-" + groupId)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      p.getOutputStream().close();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        LOG.warn("kill -KILL -{} did not finish in 10s", groupId);
      }
      // Exit 1 just means the group was already gone.
    } catch (IOException e) {
      LOG.warn("could not signal process group {}", groupId, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the helper. Later kills spawn {@code kill}. */
  @Override
  public void close() {
    closed = true;
    stopHelper(false);
  }
}
