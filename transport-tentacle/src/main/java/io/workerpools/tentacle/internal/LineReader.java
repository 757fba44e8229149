package io.workerpools.tentacle.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads a script's output stream as lines of bounded length: split at {@code \n} (a trailing {@code
 * \r} is dropped), decoded as UTF-8 with invalid bytes replaced by U+FFFD, and a line longer than
 * {@code maxChars} handed out in pieces. A piece never ends inside a surrogate pair, nor inside an
 * occurrence of a sensitive value (the cut moves before it), so masking each piece still masks
 * every secret. Memory per stream stays bounded by {@code maxChars}.
 */
public final class LineReader {
  /** The default longest piece: 16 Ki characters (at most 48 KiB of UTF-8 for BMP text). */
  public static final int DEFAULT_MAX_CHARS = 16 * 1024;

  private final int maxChars;
  private final List<String> secrets;
  private final int longestSecret;

  /**
   * @param maxChars the longest piece handed out, at least 16
   * @param secrets values a cut must not split (null or empty values are ignored)
   */
  public LineReader(int maxChars, Collection<String> secrets) {
    if (maxChars < 16) {
      throw new IllegalArgumentException("maxChars must be at least 16 but was " + maxChars);
    }
    this.maxChars = maxChars;
    List<String> s = new ArrayList<>();
    int longest = 0;
    if (secrets != null) {
      for (String v : secrets) {
        if (v != null && !v.isEmpty()) {
          s.add(v);
          longest = Math.max(longest, v.length());
        }
      }
    }
    this.secrets = List.copyOf(s);
    this.longestSecret = longest;
  }

  /** Reads {@code in} to its end, handing each line (or piece of a long line) to {@code out}. */
  public void pump(InputStream in, Consumer<String> out) throws IOException {
    Reader r = new InputStreamReader(in, StandardCharsets.UTF_8);
    char[] buf = new char[8192];
    StringBuilder line = new StringBuilder();
    int n;
    while ((n = r.read(buf)) >= 0) {
      int start = 0; // the part of buf not yet in line
      for (int i = 0; i < n; i++) {
        if (buf[i] == '\n') {
          int end = i;
          if (line.length() == 0) {
            if (end > start && buf[end - 1] == '\r') {
              end--;
            }
            out.accept(new String(buf, start, end - start));
          } else {
            line.append(buf, start, i - start);
            int len = line.length();
            out.accept(line.substring(0, len > 0 && line.charAt(len - 1) == '\r' ? len - 1 : len));
            line.setLength(0);
          }
          start = i + 1;
        } else if (line.length() + (i + 1 - start) >= maxChars) {
          line.append(buf, start, i + 1 - start);
          start = i + 1;
          int cut = cut(line);
          out.accept(line.substring(0, cut));
          line.delete(0, cut);
        }
      }
      line.append(buf, start, n - start);
    }
    if (line.length() > 0) {
      out.accept(line.toString());
    }
  }

  /** Where to cut a full buffer: not inside a surrogate pair, nor inside a secret. */
  int cut(CharSequence line) {
    int len = line.length();
    int cut = len;
    if (longestSecret > 1) {
      // A secret may start in the last (longest - 1) characters and continue in the next read:
      // keep those back, and move the cut before any occurrence that would straddle it.
      cut = Math.max(1, len - (longestSecret - 1));
      String text = line.toString();
      boolean moved = true;
      while (moved) {
        moved = false;
        for (String v : secrets) {
          int from = Math.max(0, cut - v.length() + 1);
          int at = text.indexOf(v, from);
          if (at >= 0 && at < cut && at + v.length() > cut) {
            cut = at;
            moved = true;
          }
        }
      }
      if (cut == 0) {
        cut = len; // a secret longer than a piece: it cannot be kept whole anyway
      }
    }
    if (cut < len && cut > 0 && Character.isHighSurrogate(line.charAt(cut - 1))) {
      cut--;
    } else if (cut == len && Character.isHighSurrogate(line.charAt(cut - 1))) {
      cut--;
    }
    return cut;
  }
}
