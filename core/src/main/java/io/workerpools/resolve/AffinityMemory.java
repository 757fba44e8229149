package io.workerpools.resolve;

import io.workerpools.model.WorkerId;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which worker each affinity key last ran on, bounded: the least recently used key is forgotten
 * first. Not thread-safe: guarded by the resolver's lock.
 */
final class AffinityMemory {
  private final Map<String, WorkerId> keys;

  AffinityMemory(int max) {
    keys =
        new LinkedHashMap<>(256, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, WorkerId> eldest) {
            return size() > max;
          }
        };
  }

  /** The worker the key last ran on, or null. */
  WorkerId get(String key) {
    return keys.get(key);
  }

  void put(String key, WorkerId worker) {
    keys.put(key, worker);
  }
}
