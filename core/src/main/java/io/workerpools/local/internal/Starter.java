package io.workerpools.local.internal;

import java.io.IOException;

/**
 * Starts scripts as processes of this host. Two ways: {@link SpawnStarter} (one JDK spawn per
 * script, two pooled reader threads while it runs) and {@link LauncherStarter} (a persistent {@code
 * bash} launcher forks each script; one selector thread reads every script's output). Called on the
 * caller's thread of {@code LocalScriptRunner.start}; thread-safe.
 */
public interface Starter extends AutoCloseable {
  /**
   * Starts {@code spec}, reporting to {@code events} (possibly before this returns).
   *
   * @throws IOException if it could not be started (nothing ran; no event was reported)
   */
  void start(StartSpec spec, ScriptEvents events) throws IOException;

  /** Stops this starter's own helpers; scripts already started keep being reported. */
  @Override
  void close();
}
