package io.workerpools.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small collection helpers for the value types. */
final class Collections2 {
  private Collections2() {}

  /** An unmodifiable copy that keeps the iteration order of the source. */
  static <K, V> Map<K, V> orderedCopy(Map<K, V> source) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(source));
  }
}
