package io.workerpools.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

/**
 * Output cut into lines the same way however the bytes are chunked by the network, and never a
 * sensitive value shown, wherever the cuts and the writes fall.
 */
class LineSplitterProperties {

  @Provide
  Arbitrary<String> text() {
    return Arbitraries.strings()
        .withChars('a', 'b', ' ', '\n', '\r', '\u00e9', '\u2713')
        .ofMaxLength(200);
  }

  @Property(tries = 200)
  void chunkingNeverChangesTheLines(
      @ForAll("text") String text,
      @ForAll @Size(max = 10) List<@IntRange(min = 1, max = 7) Integer> cuts) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    List<String> whole = split(bytes, List.of());
    List<String> chunked = split(bytes, cuts);
    assertThat(chunked).isEqualTo(whole);
    List<String> expected = new ArrayList<>();
    for (String segment : text.split("\n", -1)) {
      expected.add(segment.endsWith("\r") ? segment.substring(0, segment.length() - 1) : segment);
    }
    if (text.isEmpty() || text.endsWith("\n")) {
      expected.remove(expected.size() - 1);
    }
    assertThat(whole).isEqualTo(expected);
  }

  @Property(tries = 20)
  void aLineIsNeverLongerThanTheLimit(@ForAll @IntRange(min = 1, max = 3) int limits) {
    byte[] bytes = new byte[LineSplitter.DEFAULT_MAX_LINE_BYTES * limits + 5];
    java.util.Arrays.fill(bytes, (byte) 'x');
    List<String> lines = split(bytes, List.of(1000, 7));
    assertThat(lines)
        .allSatisfy(
            l -> assertThat(l.length()).isLessThanOrEqualTo(LineSplitter.DEFAULT_MAX_LINE_BYTES));
    assertThat(lines.stream().mapToInt(String::length).sum()).isEqualTo(bytes.length);
  }

  /**
   * The invariant of the one output path: whatever the text around a secret, wherever the line is
   * cut and however the bytes are chunked, no masked line holds the secret, and every occurrence
   * becomes one mask.
   */
  @Property(tries = 400)
  void noMaskedLineEverHoldsASecretWhereverCutsAndWritesFall(
      @ForAll @IntRange(min = 0, max = 120) int before,
      @ForAll @IntRange(min = 0, max = 3) int occurrences,
      @ForAll @IntRange(min = 2, max = 20) int secretLength,
      @ForAll @IntRange(min = 1, max = 50) int chunk,
      @ForAll @IntRange(min = 60, max = 96) int cap) {
    String secret = "Z9\u00e9k".repeat(10).substring(0, secretLength);
    StringBuilder line = new StringBuilder("a".repeat(before));
    for (int i = 0; i < occurrences; i++) {
      line.append(secret).append("-".repeat(i * 7 % 13));
    }
    line.append("end");
    byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
    List<String> out = new ArrayList<>();
    LineSplitter s = LineSplitter.masking(cap, SensitiveMasker.of(List.of(secret)), out::add);
    for (int i = 0; i < bytes.length; i += chunk) {
      s.write(bytes, i, Math.min(chunk, bytes.length - i));
    }
    s.finish();
    Statistics.label("cut").collect(out.size() > 1 ? "cut" : "whole");
    assertThat(out).noneSatisfy(l -> assertThat(l).contains(secret));
    int masks = out.stream().mapToInt(l -> l.split("\\*{8}", -1).length - 1).sum();
    assertThat(masks).as("one mask per occurrence: %s", out).isEqualTo(occurrences);
    assertThat(String.join("", out).replace(SensitiveMasker.MASK, secret))
        .isEqualTo(line.toString());
    Statistics.label("cut").coverage(c -> c.check("cut").percentage(p -> p > 20));
  }

  @Property(tries = 200)
  void noLineOfAMultiLineSecretIsCutOrShown(
      @ForAll @IntRange(min = 0, max = 100) int before,
      @ForAll @IntRange(min = 1, max = 40) int chunk) {
    String key = "-----BEGIN-----\nMIIBVwIBADANBgkq\n-----END-----";
    String text = "k".repeat(before) + key.replace("\n", "\n" + "k".repeat(before)) + "\n";
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    List<String> out = new ArrayList<>();
    LineSplitter s = LineSplitter.masking(40, SensitiveMasker.of(List.of(key)), out::add);
    for (int i = 0; i < bytes.length; i += chunk) {
      s.write(bytes, i, Math.min(chunk, bytes.length - i));
    }
    s.finish();
    for (String part : key.split("\n")) {
      assertThat(out).noneSatisfy(l -> assertThat(l).contains(part));
    }
    assertThat(out).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(40));
  }

  private static List<String> split(byte[] bytes, List<Integer> cuts) {
    List<String> out = new ArrayList<>();
    LineSplitter s =
        LineSplitter.masking(LineSplitter.DEFAULT_MAX_LINE_BYTES, SensitiveMasker.none(), out::add);
    int pos = 0;
    for (int c : cuts) {
      int n = Math.min(c, bytes.length - pos);
      s.write(bytes, pos, n);
      pos += n;
    }
    s.write(bytes, pos, bytes.length - pos);
    s.finish();
    return out;
  }
}
