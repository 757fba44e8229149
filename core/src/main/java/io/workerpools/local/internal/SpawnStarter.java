package io.workerpools.local.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JDK spawn per script: {@code setsid <argv>} (so that the script leads its own process group;
 * without {@code setsid} only its descendants can be found to kill), stdin closed at once, stdout
 * and stderr read by two blocking tasks on the given executor, the exit taken from the JDK's
 * reaper. A script costs two reader threads and the JDK's reaper thread while it runs: this is the
 * fallback of {@link LauncherStarter} and the opt-in {@code SPAWN_PER_SCRIPT} mode, not the
 * default.
 */
public final class SpawnStarter implements Starter {
  private static final Logger LOG = LoggerFactory.getLogger(SpawnStarter.class);

  private final Optional<Path> setsid;
  private final ExecutorService io;
  private final ProcessTree processTree;

  public SpawnStarter(Optional<Path> setsid, ExecutorService io, ProcessTree processTree) {
    this.setsid = setsid;
    this.io = io;
    this.processTree = processTree;
  }

  @Override
  public void start(StartSpec spec, ScriptEvents events) throws IOException {
    List<String> command = new ArrayList<>(spec.argv().size() + 1);
    boolean ownGroup = setsid.isPresent();
    if (ownGroup) {
      command.add(setsid.get().toString());
    }
    command.addAll(spec.argv());
    ProcessBuilder pb = new ProcessBuilder(command).directory(spec.directory().toFile());
    pb.environment().clear();
    pb.environment().putAll(spec.environment());
    Process p = pb.start();
    try {
      p.getOutputStream().close(); // scripts that read stdin see its end at once
    } catch (IOException e) {
      LOG.debug("closing stdin of process {} failed", p.pid(), e);
    }
    events.onStarted(p.pid(), ownGroup);
    try {
      io.execute(() -> pump(p.getInputStream(), true, events));
    } catch (RejectedExecutionException e) {
      p.destroyForcibly();
      events.onStreamEnd(true);
    }
    try {
      io.execute(() -> pump(p.getErrorStream(), false, events));
    } catch (RejectedExecutionException e) {
      p.destroyForcibly();
      events.onStreamEnd(false);
    }
    // Runs on the JDK's exit-notification thread: quick work only (a pipe write, an event).
    p.onExit()
        .thenRun(
            () -> {
              if (ownGroup && spec.killLeftovers()) {
                // Background jobs the script left would outlive the step and hold its output pipes
                // open (our readers would never see their end): end the whole group. Not waited
                // for: the pipes close when the signal lands, and the result waits for the pipes.
                processTree.killGroupSoon(p.pid(), io);
              }
              events.onExit(p.exitValue());
            });
  }

  private static void pump(InputStream in, boolean stdout, ScriptEvents events) {
    byte[] buf = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        events.onOutput(stdout, buf, 0, n);
      }
    } catch (IOException e) {
      // The pipe was closed under us (process killed): what was read has been delivered.
      LOG.debug("{} ended: {}", stdout ? "stdout" : "stderr", e.toString());
    } catch (RuntimeException e) {
      LOG.warn("reading {} failed", stdout ? "stdout" : "stderr", e);
    } finally {
      events.onStreamEnd(stdout);
    }
  }

  @Override
  public void close() {
    // nothing of its own: the executor and the process tree belong to the runner
  }
}
