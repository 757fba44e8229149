package io.workerpools.tentacle.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.transport.SensitiveMasker;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The agent's bounded line reader (regression: it read whole lines, however long). */
class LineReaderTest {
  private static List<String> read(LineReader r, byte[] bytes) throws IOException {
    List<String> out = new ArrayList<>();
    r.pump(new ByteArrayInputStream(bytes), out::add);
    return out;
  }

  @Example
  void aLongLineWithoutANewlineComesOutInBoundedPiecesWithNothingLost() throws IOException {
    byte[] big = "x".repeat(1_000_000).getBytes(StandardCharsets.UTF_8);
    List<String> pieces = read(new LineReader(1024, List.of()), big);
    assertThat(pieces).allSatisfy(p -> assertThat(p.length()).isLessThanOrEqualTo(1024));
    assertThat(String.join("", pieces)).hasSize(1_000_000);
  }

  @Example
  void invalidUtf8IsReplacedAndLinesAreSplitAtNewlines() throws IOException {
    byte[] bytes = {'a', (byte) 0xFF, 'b', '\r', '\n', 'c', '\n', 'd'};
    assertThat(read(new LineReader(16, List.of()), bytes)).containsExactly("a\uFFFDb", "c", "d");
  }

  @Example
  void aSurrogatePairIsNeverCutInTwo() throws IOException {
    String text = "a".repeat(15) + "\uD83D\uDE00" + "b"; // the emoji straddles char 16
    List<String> pieces =
        read(new LineReader(16, List.of()), text.getBytes(StandardCharsets.UTF_8));
    assertThat(String.join("", pieces)).isEqualTo(text);
    assertThat(pieces).noneMatch(p -> Character.isHighSurrogate(p.charAt(p.length() - 1)));
  }

  @Property(tries = 200)
  void aSecretIsNeverSplitAcrossPiecesSoMaskingEachPieceHidesIt(
      @ForAll @IntRange(min = 0, max = 300) int position,
      @ForAll @IntRange(min = 2, max = 40) int secretLength)
      throws IOException {
    String secret = "S3cr".repeat(10).substring(0, secretLength);
    String text = "-".repeat(position) + secret + "+".repeat(100);
    LineReader reader = new LineReader(64, List.of(secret));
    List<String> pieces = read(reader, text.getBytes(StandardCharsets.UTF_8));
    assertThat(String.join("", pieces)).isEqualTo(text);
    SensitiveMasker masker = SensitiveMasker.of(List.of(secret));
    String masked = String.join("", pieces.stream().map(masker::mask).toList());
    assertThat(masked).doesNotContain(secret).contains(SensitiveMasker.MASK);
    assertThat(pieces).allSatisfy(p -> assertThat(p.length()).isLessThanOrEqualTo(64));
  }

  @Property(tries = 50)
  void piecesAreBoundedAndRejoinToTheInputWhateverTheText(
      @ForAll("texts") String text, @ForAll @IntRange(min = 16, max = 200) int maxChars)
      throws IOException {
    List<String> pieces =
        read(new LineReader(maxChars, List.of()), text.getBytes(StandardCharsets.UTF_8));
    assertThat(pieces).allSatisfy(p -> assertThat(p.length()).isLessThanOrEqualTo(maxChars));
    assertThat(String.join("", pieces)).isEqualTo(text.replace("\n", ""));
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<String> texts() {
    return net.jqwik.api.Arbitraries.of("a", "b", "\u00e9", "\uD83D\uDE00", "\n", "xyz")
        .list()
        .ofMaxSize(12_000)
        .map(l -> String.join("", l));
  }
}
