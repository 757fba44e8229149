package io.workerpools.local.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills a script's whole process tree. A script started through {@code setsid} leads its own
 * process group (its pid is the group id), so one {@code kill -KILL -- -pid} reaches every process
 * it started, including orphans whose parent already exited and which {@link
 * ProcessHandle#descendants()} can no longer see. Descendants that left the group (a script calling
 * {@code setsid} itself) are killed through {@link ProcessHandle} as well. The JDK has no API to
 * signal a process group, hence the {@code kill} child process.
 */
public final class ProcessTree {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessTree.class);
  private final Optional<Path> kill;

  public ProcessTree(Optional<Path> kill) {
    this.kill = kill;
  }

  /** Whether process groups can be signalled here (a {@code kill} executable exists). */
  public boolean canKillGroups() {
    return kill.isPresent();
  }

  /**
   * Sends SIGKILL to the process group {@code groupId} (when {@code ownGroup}) and to every live
   * descendant of {@code root}. Blocks for the few milliseconds the {@code kill} command takes;
   * call it from a transport thread.
   */
  public void killAll(ProcessHandle root, boolean ownGroup) {
    List<ProcessHandle> descendants = root.descendants().toList();
    if (ownGroup && kill.isPresent()) {
      signalGroup(root.pid());
    }
    root.destroyForcibly();
    for (ProcessHandle h : descendants) {
      h.destroyForcibly();
    }
  }

  /** Sends SIGKILL to a process group that may outlive its leader (leftover background jobs). */
  public void killGroup(long groupId) {
    if (kill.isPresent()) {
      signalGroup(groupId);
    }
  }

  private void signalGroup(long groupId) {
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
}
