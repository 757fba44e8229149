package io.workerpools.examples;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a line of bash's {@code times} builtin: {@code 0m0.182s 0m0.022s} (user, system). */
final class BashTimes {
  private static final Pattern LINE =
      Pattern.compile("(\\d{1,6})m(\\d{1,6})[.,](\\d{3})s (\\d{1,6})m(\\d{1,6})[.,](\\d{3})s");

  private BashTimes() {}

  /** The line's user + system time in milliseconds; 0 for a line that is not one of these. */
  static long millis(String line) {
    Matcher m = LINE.matcher(line.trim());
    if (!m.matches()) {
      return 0;
    }
    return part(m, 1) + part(m, 4);
  }

  private static long part(Matcher m, int g) {
    return Long.parseLong(m.group(g)) * 60_000
        + Long.parseLong(m.group(g + 1)) * 1000
        + Long.parseLong(m.group(g + 2));
  }
}
