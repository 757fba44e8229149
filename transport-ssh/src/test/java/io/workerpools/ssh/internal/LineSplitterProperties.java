package io.workerpools.ssh.internal;

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

/** Output cut into lines the same way however the bytes are chunked by the network. */
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
    byte[] bytes = new byte[LineSplitter.MAX_LINE * limits + 5];
    java.util.Arrays.fill(bytes, (byte) 'x');
    List<String> lines = split(bytes, List.of(1000, 7));
    assertThat(lines)
        .allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(LineSplitter.MAX_LINE));
    assertThat(lines.stream().mapToInt(String::length).sum()).isEqualTo(bytes.length);
  }

  private static List<String> split(byte[] bytes, List<Integer> cuts) {
    List<String> out = new ArrayList<>();
    LineSplitter s = new LineSplitter(out::add);
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
