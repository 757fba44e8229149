package io.workerpools.transport;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Replaces sensitive values with {@value #MASK} in text. Longer values are masked first, so a value
 * that contains another is masked whole. Thread-safe and immutable.
 */
public final class SensitiveMasker {
  /** What a sensitive value is replaced with. */
  public static final String MASK = "********";

  /** The shortest line of a multi-line value that is masked on its own. */
  private static final int MIN_MASKED_PART = 4;

  private static final SensitiveMasker NONE = new SensitiveMasker(List.of());
  private final List<String> values;

  private SensitiveMasker(List<String> values) {
    this.values = values;
  }

  /** A masker for these values; empty values are ignored. */
  public static SensitiveMasker of(Collection<String> values) {
    List<String> v = new ArrayList<>();
    for (String s : values) {
      if (s != null && !s.isEmpty()) {
        v.add(s);
      }
    }
    if (v.isEmpty()) {
      return NONE;
    }
    v.sort(Comparator.comparingInt(String::length).reversed());
    return new SensitiveMasker(List.copyOf(v));
  }

  /** A masker that masks nothing. */
  public static SensitiveMasker none() {
    return NONE;
  }

  /** Whether there is anything to mask. */
  public boolean isEmpty() {
    return values.isEmpty();
  }

  /**
   * The text with every sensitive value replaced. A value that spans several lines is masked in
   * each of its lines as well, so a multi-line secret never shows a line of itself.
   */
  public String mask(String text) {
    if (values.isEmpty() || text.isEmpty()) {
      return text;
    }
    String out = text;
    for (String v : values) {
      if (out.contains(v)) {
        out = out.replace(v, MASK);
      }
    }
    for (String v : values) {
      if (v.indexOf('\n') >= 0) {
        for (String part : v.split("\r?\n")) {
          if (part.length() >= MIN_MASKED_PART && out.contains(part)) {
            out = out.replace(part, MASK);
          }
        }
      }
    }
    return out;
  }

  /**
   * What a {@link LineSplitter} must never cut: each value that fits on one line, and each line of
   * length at least {@value #MIN_MASKED_PART} of a multi-line value (the parts {@link #mask} masks
   * on their own).
   */
  List<String> keptWhole() {
    List<String> out = new ArrayList<>();
    for (String v : values) {
      if (v.indexOf('\n') < 0) {
        out.add(v);
      } else {
        for (String part : v.split("\r?\n")) {
          if (part.length() >= MIN_MASKED_PART) {
            out.add(part);
          }
        }
      }
    }
    return out;
  }

  /** The number of values this masker masks. */
  public int size() {
    return values.size();
  }
}
