package io.workerpools.tentacle.internal;

import io.workerpools.ConfigurationException;
import io.workerpools.tentacle.AgentTrust;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running agent's trusted host thumbprints: the start flag's set plus the stored set ({@link
 * AgentTrust}), re-read whenever the file changes. {@link #get()} (called at every handshake)
 * checks the file's identity, size and time (one {@code stat}) and reloads on any change, so the
 * next handshake always sees the newest set; a watcher thread notices changes without a handshake
 * (file-system events, and a check every {@code checkEvery} as a fallback) and tells the listeners,
 * which cut the connections of hosts no longer trusted.
 *
 * <p>A stored file that becomes invalid while the agent runs fails closed: the agent then trusts
 * only the start flag's thumbprints, logs the error (naming the file and the line) and cuts the
 * rest, until the file is fixed.
 */
public final class TrustedHosts implements Supplier<Set<String>>, Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(TrustedHosts.class);

  private final Set<String> flags;
  private final AgentTrust stored;
  private final List<Consumer<Set<String>>> listeners = new CopyOnWriteArrayList<>();
  private final Thread watcher;
  private final Duration checkEvery;
  private volatile Set<String> current;
  private volatile boolean closed;
  private Object stamp;

  /**
   * Reads the stored set once (a bad file fails the start with the file's error) and starts
   * watching it.
   *
   * @throws ConfigurationException if the stored file is invalid
   */
  public TrustedHosts(Set<String> flags, AgentTrust stored, Duration checkEvery) {
    this.flags = Set.copyOf(flags);
    this.stored = Objects.requireNonNull(stored, "stored");
    this.checkEvery = checkEvery;
    this.stamp = stampOf(stored.file());
    this.current = union(stored.thumbprints());
    this.watcher = new Thread(this::watch, "agent-trust-watch");
    watcher.setDaemon(true);
  }

  /** Starts the watcher thread. */
  public TrustedHosts start() {
    watcher.start();
    return this;
  }

  /** Called with the new set after every change (on the thread that noticed it; must not block). */
  public void onChange(Consumer<Set<String>> listener) {
    listeners.add(listener);
  }

  /** The trusted thumbprints now, re-read first if the stored file changed. */
  @Override
  public Set<String> get() {
    refresh();
    return current;
  }

  /** Re-reads the stored file if it changed; tells the listeners if the set changed. */
  public void refresh() {
    Set<String> before;
    Set<String> after;
    synchronized (this) {
      Object now = stampOf(stored.file());
      if (Objects.equals(now, stamp)) {
        return;
      }
      stamp = now;
      before = current;
      try {
        after = union(stored.thumbprints());
      } catch (ConfigurationException e) {
        LOG.error(
            "{}; until it is fixed the agent trusts only the thumbprints given at start ({})",
            e.getMessage(),
            flags.isEmpty() ? "none" : flags);
        after = flags;
      }
      current = after;
    }
    if (!after.equals(before)) {
      TreeSet<String> added = new TreeSet<>(after);
      added.removeAll(before);
      TreeSet<String> removed = new TreeSet<>(before);
      removed.removeAll(after);
      LOG.info("trusted hosts changed ({}): added {}, removed {}", stored.file(), added, removed);
      for (Consumer<Set<String>> l : listeners) {
        l.accept(after);
      }
    }
  }

  private Set<String> union(Set<String> fromFile) {
    TreeSet<String> all = new TreeSet<>(flags);
    all.addAll(fromFile);
    return Set.copyOf(all);
  }

  /** The file's identity (inode), size and time: a rename or a rewrite changes it. */
  private static Object stampOf(Path file) {
    try {
      BasicFileAttributes a =
          Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      return List.of(
          String.valueOf(a.fileKey()),
          a.size(),
          a.lastModifiedTime().toMillis(),
          a.isSymbolicLink());
    } catch (NoSuchFileException e) {
      return "absent";
    } catch (IOException e) {
      return "unreadable: " + e;
    }
  }

  private void watch() {
    WatchService ws = null;
    try {
      ws = stored.file().getFileSystem().newWatchService();
      stored
          .file()
          .getParent()
          .register(
              ws,
              StandardWatchEventKinds.ENTRY_CREATE,
              StandardWatchEventKinds.ENTRY_MODIFY,
              StandardWatchEventKinds.ENTRY_DELETE);
    } catch (IOException | UnsupportedOperationException e) {
      LOG.debug("no file-system events for {}; checking it every {}", stored.file(), checkEvery);
    }
    try {
      while (!closed) {
        if (ws != null) {
          var key = ws.poll(checkEvery.toMillis(), TimeUnit.MILLISECONDS);
          if (key != null) {
            key.pollEvents();
            key.reset();
          }
        } else {
          Thread.sleep(checkEvery.toMillis()); // a periodic check, not a wait for another thread
        }
        try {
          refresh();
        } catch (RuntimeException e) {
          LOG.warn("checking {} failed", stored.file(), e);
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closing
    } finally {
      if (ws != null) {
        try {
          ws.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }
  }

  /** Stops the watcher thread. */
  @Override
  public void close() {
    closed = true;
    watcher.interrupt();
  }
}
