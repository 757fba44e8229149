package io.workerpools.tentacle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.ProtocolViolationException;
import io.workerpools.tentacle.internal.Wire;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Invariants of the framing and of message decoding, and of the agent under hostile messages. */
class FramingProperties {
  static Path home;
  static TentacleAgent agent;

  @BeforeContainer
  static void startAgent() throws IOException {
    home = Files.createTempDirectory("framing-props");
    agent =
        TentacleAgent.builder(home)
            .trust(TestSupport.HOST.thumbprint())
            .listen("127.0.0.1", 0)
            .start();
  }

  @AfterContainer
  static void stopAgent() {
    agent.close();
    io.workerpools.tentacle.internal.ScriptServiceAccess.deleteTree(home);
  }

  @Property(tries = 100)
  void framesRoundTripWhateverTheirContent(@ForAll @Size(max = 20) List<byte[]> payloads)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : payloads) {
      Frames.write(out, p);
    }
    ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
    for (byte[] p : payloads) {
      assertThat(Frames.read(in, Frames.DEFAULT_MAX_FRAME_BYTES)).isEqualTo(p);
    }
    assertThat(Frames.read(in, Frames.DEFAULT_MAX_FRAME_BYTES)).isNull();
  }

  @Property(tries = 100)
  void framesOverTheLimitAreRejectedBeforeTheirPayloadIsRead(
      @ForAll @IntRange(min = 1, max = 4096) int limit,
      @ForAll @IntRange(min = 1, max = 4096) int excess)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Frames.write(out, new byte[limit + excess]);
    assertThatThrownBy(() -> Frames.read(new ByteArrayInputStream(out.toByteArray()), limit))
        .isInstanceOf(ProtocolViolationException.class)
        .hasMessageContaining("exceeds the limit of " + limit);
  }

  @Property(tries = 200)
  void aFrameCutShortIsAlwaysRejected(
      @ForAll @Size(min = 1, max = 500) byte[] payload,
      @ForAll @IntRange(min = 1, max = 503) int cut)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Frames.write(out, payload);
    byte[] whole = out.toByteArray();
    int keep = Math.min(cut, whole.length - 1);
    byte[] truncated = Arrays.copyOf(whole, keep);
    assertThatThrownBy(() -> Frames.read(new ByteArrayInputStream(truncated), 1 << 20))
        .isInstanceOf(ProtocolViolationException.class)
        .hasMessageContaining("truncated frame");
  }

  @Provide
  Arbitrary<String> unknownTypes() {
    return Arbitraries.strings()
        .ofMinLength(1)
        .ofMaxLength(30)
        .filter(t -> !Wire.REQUEST_TYPES.containsKey(t));
  }

  @Provide
  Arbitrary<String> fieldNames() {
    return Arbitraries.strings()
        .alpha()
        .ofMinLength(1)
        .ofMaxLength(20)
        .filter(f -> !f.equals("ticket"));
  }

  @Property(tries = 100)
  void unknownMessageTypesAreRejectedNamingTheType(@ForAll("unknownTypes") String type) {
    byte[] json = Wire.request(type, new io.workerpools.tentacle.internal.Messages.Empty());
    assertThatThrownBy(() -> Wire.decodeRequest(json))
        .isInstanceOf(ProtocolViolationException.class)
        .hasMessageContaining("unknown message type");
  }

  @Property(tries = 100)
  void unknownFieldsAreRejectedNamingTheField(@ForAll("fieldNames") String field) {
    String json = "{\"type\":\"script.cancel\",\"body\":{\"ticket\":\"t1\",\"" + field + "\":1}}";
    assertThatThrownBy(() -> Wire.decodeRequest(json.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(ProtocolViolationException.class)
        .hasMessageContaining("unknown field '" + field + "'");
  }

  @Property(tries = 25)
  void theAgentAnswersAnyHostileMessageAndKeepsServing(
      @ForAll("unknownTypes") String type, @ForAll("fieldNames") String field) throws IOException {
    try (TestSupport.RawClient c =
        new TestSupport.RawClient(agent.listeningAddress(), agent.thumbprint())) {
      String t = Wire.MAPPER.writeValueAsString(type);
      assertThat(c.callText("{\"type\":" + t + ",\"body\":{}}")).contains("unknown message type");
      assertThat(c.callText("{\"type\":\"ping\",\"body\":{\"" + field + "\":true}}"))
          .contains("unknown field");
      assertThat(c.callText("{\"type\":\"ping\",\"body\":{}}")).contains("\"error\":null");
    }
  }
}
