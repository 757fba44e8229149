package io.workerpools.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** Splitting process output into lines. */
class LineSplitterTest {

  private static List<String> split(byte[] bytes, int max, int chunk) {
    List<String> out = new ArrayList<>();
    LineSplitter s = LineSplitter.masking(max, SensitiveMasker.none(), out::add);
    for (int i = 0; i < bytes.length; i += chunk) {
      s.accept(bytes, i, Math.min(chunk, bytes.length - i));
    }
    s.finish();
    return out;
  }

  @Test
  void crlfAndAMissingFinalNewlineAreHandled() throws IOException {
    List<String> out = new ArrayList<>();
    LineSplitter.masking(1024, SensitiveMasker.none(), out::add)
        .pump(new ByteArrayInputStream("a\r\nb\n\nc".getBytes(StandardCharsets.UTF_8)));
    assertThat(out).containsExactly("a", "b", "", "c");
  }

  @Test
  void invalidUtf8IsReplacedNotFatal() {
    byte[] bytes = {'o', 'k', (byte) 0xff, (byte) 0xc3, '\n', 'n', 'e', 'x', 't', '\n'};
    assertThat(split(bytes, 64, 3)).containsExactly("ok\uFFFD\uFFFD", "next");
  }

  @Test
  void aLongLineIsCutAtACharacterBoundary() {
    String line = "ab" + "é".repeat(20); // 2 + 40 bytes
    List<String> out = split((line + "\n").getBytes(StandardCharsets.UTF_8), 17, 5);
    assertThat(String.join("", out)).isEqualTo(line);
    assertThat(out).allSatisfy(p -> assertThat(p).doesNotContain("\uFFFD"));
    assertThat(out)
        .allSatisfy(
            p -> assertThat(p.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(17));
  }

  @Property(tries = 300)
  void aKeptValueIsNeverSplitByACutWhateverItsPosition(
      @ForAll @IntRange(min = 0, max = 80) int padding,
      @ForAll @IntRange(min = 1, max = 40) int chunk) {
    String secret = "s3cr3t-T0ken-9f";
    String line = "x".repeat(padding) + secret + "y".repeat(padding) + secret + "z";
    List<String> out = new ArrayList<>();
    LineSplitter s = LineSplitter.unmasked(32, SensitiveMasker.of(List.of(secret)), out::add);
    byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i += chunk) {
      s.accept(bytes, i, Math.min(chunk, bytes.length - i));
    }
    s.finish();
    assertThat(String.join("", out)).isEqualTo(line);
    assertThat(out.stream().mapToInt(p -> p.split(secret, -1).length - 1).sum())
        .as("each occurrence arrives whole in one piece: %s", out)
        .isEqualTo(2);
    assertThat(out).allSatisfy(p -> assertThat(p.length()).isLessThanOrEqualTo(32));
  }

  @Property(tries = 300)
  void linesShorterThanTheCapArriveExactlyInOrderWhateverTheChunking(
      @ForAll @Size(max = 30) List<@StringLength(max = 20) String> raw,
      @ForAll @IntRange(min = 1, max = 50) int chunk) {
    List<String> lines = raw.stream().map(s -> s.replace('\n', ' ').replace('\r', ' ')).toList();
    StringBuilder text = new StringBuilder();
    for (String l : lines) {
      text.append(l).append('\n');
    }
    byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
    // Invalid surrogates in generated strings become '?' when encoded; compare with that decoding.
    List<String> expected = new ArrayList<>();
    for (String l : lines) {
      expected.add(new String(l.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    }
    assertThat(split(bytes, 4096, chunk)).containsExactlyElementsOf(expected);
  }

  @Property(tries = 300)
  void longLinesLoseNothingAndNoPieceExceedsTheCap(
      @ForAll @StringLength(max = 400) String raw,
      @ForAll @IntRange(min = 16, max = 64) int cap,
      @ForAll @IntRange(min = 1, max = 50) int chunk) {
    String line =
        new String(
            raw.replace('\n', ' ').replace('\r', ' ').getBytes(StandardCharsets.UTF_8),
            StandardCharsets.UTF_8);
    List<String> out = split((line + "\n").getBytes(StandardCharsets.UTF_8), cap, chunk);
    assertThat(String.join("", out)).isEqualTo(line);
    assertThat(out)
        .allSatisfy(
            p -> assertThat(p.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(cap));
  }
}
