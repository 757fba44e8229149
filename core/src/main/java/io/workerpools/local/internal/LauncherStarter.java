package io.workerpools.local.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts scripts through a persistent {@link Launcher}, started with the first script, with the
 * given base environment; scripts it cannot take (variables a shell cannot export unchanged), and
 * every script if the launcher cannot start or be restarted, go to the fallback instead, with one
 * log line saying why.
 */
public final class LauncherStarter implements Starter {
  private static final Logger LOG = LoggerFactory.getLogger(LauncherStarter.class);

  private final Optional<Path> bash;
  private final Map<String, String> baseEnvironment;
  private final Launcher.Limits limits;
  private final Starter fallback;
  private final Object lock = new Object();
  private Launcher launcher; // guarded by lock
  private boolean failed; // guarded by lock
  private boolean closed; // guarded by lock

  public LauncherStarter(
      Optional<Path> bash,
      Map<String, String> baseEnvironment,
      Launcher.Limits limits,
      Starter fallback) {
    this.bash = bash;
    this.baseEnvironment = Map.copyOf(baseEnvironment);
    this.limits = limits;
    this.fallback = fallback;
  }

  @Override
  public void start(StartSpec spec, ScriptEvents events) throws IOException {
    Launcher l = launcher();
    if (l != null && l.canLaunch(spec)) {
      try {
        l.launch(spec, events);
        return;
      } catch (IOException e) {
        LOG.warn(
            "the local launcher could not take a script; spawning it instead: {}", e.toString());
      }
    }
    fallback.start(spec, events);
  }

  /** Whether scripts go through the launcher now (it started and has not failed). */
  public boolean active() {
    synchronized (lock) {
      return launcher != null && launcher.usable();
    }
  }

  /** The pids of the launcher processes. For tests. */
  public List<Long> pids() {
    synchronized (lock) {
      return launcher == null ? List.of() : launcher.pids();
    }
  }

  /** The launcher's loopback port, or -1. For tests. */
  public int port() {
    synchronized (lock) {
      return launcher == null ? -1 : launcher.port();
    }
  }

  private Launcher launcher() {
    synchronized (lock) {
      if (closed) {
        return null;
      }
      if (launcher != null) {
        if (launcher.usable()) {
          return launcher;
        }
        if (!failed) {
          failed = true;
          LOG.warn(
              "the local launcher could not be restarted; scripts on the built-in worker are now"
                  + " started one process each (StartMode.SPAWN_PER_SCRIPT)");
        }
        return null;
      }
      if (failed) {
        return null;
      }
      failed = true; // until it has started
      if (bash.isEmpty()) {
        LOG.warn("no 'bash' on PATH: scripts are started one process each, without the launcher");
        return null;
      }
      String unsupported = Launcher.unsupportedEnvironment(baseEnvironment);
      if (unsupported != null) {
        LOG.info(
            "{}: scripts are started one process each, without the persistent launcher",
            unsupported);
        return null;
      }
      try {
        launcher = Launcher.start(bash.get(), baseEnvironment, limits);
        failed = false;
        return launcher;
      } catch (IOException e) {
        LOG.warn(
            "the persistent local launcher could not start ({}); scripts are started one process"
                + " each instead",
            e.getMessage());
        return null;
      }
    }
  }

  /** Stops the launcher processes; scripts they started are still reported until they end. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (launcher != null) {
        launcher.close();
      }
    }
    fallback.close();
  }
}
