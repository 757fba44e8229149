package io.workerpools.reliability.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.AgentWire;
import io.workerpools.tentacle.TentacleCertificate;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzed frames to a real agent running as a separate OS process, over real mutual TLS on
 * 127.0.0.1. Whatever a trusted peer sends, the agent either answers with an error that names what
 * was wrong or closes that one connection; its process stays alive and the next well-formed request
 * on a fresh connection is answered.
 */
class AgentFrameFuzzProperties {
  static final AtomicInteger TRIES = new AtomicInteger();
  static Path home;
  static AgentProcess agent;
  static InetSocketAddress address;

  @BeforeContainer
  static void startAgent() throws IOException {
    home = Files.createTempDirectory("hostile-fuzz-agent");
    agent = AgentProcess.listen(home, Hostile.HOST.thumbprint());
    address = new InetSocketAddress("127.0.0.1", agent.port());
  }

  @AfterContainer
  static void stopAgent() {
    if (agent != null) {
      agent.close();
    }
    Hostile.deleteTree(home);
  }

  private static void assertAgentStillServes() {
    assertThat(agent.process().isAlive()).as("the agent process is alive").isTrue();
    assertThat(Hostile.pings(address, agent.thumbprint()))
        .as("the agent answers a ping on a fresh connection")
        .isTrue();
  }

  // ---- generators ----

  private static byte[] frame(byte[] payload) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try {
      AgentWire.writeFrame(b, payload);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return b.toByteArray();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Random bytes with no framing at all. */
  static Arbitrary<byte[]> randomBytes() {
    return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(400);
  }

  /** A length prefix above the agent's 16 MiB limit, up to 4 GiB - 1, then a few bytes. */
  static Arbitrary<byte[]> oversizedPrefix() {
    return Arbitraries.longs()
        .between(AgentWire.MAX_FRAME_BYTES + 1L, 0xFFFF_FFFFL)
        .map(
            len ->
                new byte[] {
                  (byte) (len >>> 24),
                  (byte) (len >>> 16),
                  (byte) (len >>> 8),
                  (byte) (long) len,
                  '{',
                  '}'
                });
  }

  /** A frame whose prefix announces more bytes than follow before the connection closes. */
  static Arbitrary<byte[]> truncatedFrame() {
    return Combinators.combine(
            Arbitraries.integers().between(1, 100_000), Arbitraries.integers().between(0, 200))
        .as(
            (announced, sent) -> {
              int n = Math.min(sent, announced - 1);
              byte[] b = new byte[4 + n];
              b[0] = (byte) (announced >>> 24);
              b[1] = (byte) (announced >>> 16);
              b[2] = (byte) (announced >>> 8);
              b[3] = (byte) (int) announced;
              for (int i = 0; i < n; i++) {
                b[4 + i] = (byte) '{';
              }
              return b;
            });
  }

  /** Framing intact, payload garbage: a frame the agent must answer with a named error. */
  @Provide
  static Arbitrary<byte[]> wellFramedGarbage() {
    Arbitrary<byte[]> randomPayload = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    Arbitrary<byte[]> notJson =
        Arbitraries.strings().ofMaxLength(200).map(s -> utf8("x" + s)); // never valid JSON
    Arbitrary<byte[]> invalidUtf8 =
        Arbitraries.of(
            new byte[] {'{', '"', 't', (byte) 0xC3, 0x28, '"', '}'},
            new byte[] {(byte) 0xFF, (byte) 0xFE, (byte) 0xFD},
            new byte[] {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', ':', '1', '}'});
    Arbitrary<byte[]> unknownType =
        Arbitraries.strings()
            .ofMinLength(1)
            .ofMaxLength(40)
            .filter(t -> !AgentWire.requestTypes().contains(t))
            .map(t -> utf8("{\"type\":" + quote(t) + ",\"body\":{}}"));
    Arbitrary<byte[]> wrongBodyShape =
        Combinators.combine(
                Arbitraries.of(
                    "script.start",
                    "script.status",
                    "script.cancel",
                    "script.complete",
                    "files.upload",
                    "files.download"),
                Arbitraries.of("1", "\"text\"", "[]", "[1,2]", "true", "-7.5"))
            .as((t, body) -> utf8("{\"type\":\"" + t + "\",\"body\":" + body + "}"));
    Arbitrary<byte[]> unknownField =
        Arbitraries.strings()
            .alpha()
            .ofMinLength(1)
            .ofMaxLength(20)
            .filter(f -> !f.equals("ticket"))
            .map(
                f ->
                    utf8(
                        "{\"type\":\"script.cancel\",\"body\":{\"ticket\":\"t\",\""
                            + f
                            + "\":0}}"));
    Arbitrary<byte[]> hostileTicket =
        Arbitraries.of("../../etc", "/etc/passwd", "", "a/b", "..", "t\u0000x", "-rf")
            .map(
                t ->
                    utf8(
                        "{\"type\":\"script.status\",\"body\":{\"ticket\":"
                            + quote(t)
                            + ",\"afterSequence\":0,\"waitForMillis\":0}}"));
    Arbitrary<byte[]> typeConfusion =
        Arbitraries.of(
                "{\"type\":1,\"body\":{}}",
                "{\"type\":null,\"body\":{}}",
                "{\"body\":{}}",
                "{\"type\":\"ping\",\"body\":{},\"@class\":\"java.lang.Runtime\"}",
                "{\"type\":\"ping\",\"body\":{}} {\"type\":\"ping\"}",
                "{\"type\":\"script.status\",\"body\":{\"ticket\":\"t\",\"afterSequence\":null,"
                    + "\"waitForMillis\":0}}",
                "[]",
                "null",
                "\"ping\"")
            .map(AgentFrameFuzzProperties::utf8);
    return Arbitraries.oneOf(
        randomPayload.filter(AgentFrameFuzzProperties::notAValidRequest),
        notJson,
        invalidUtf8,
        unknownType,
        wrongBodyShape,
        unknownField,
        hostileTicket,
        typeConfusion);
  }

  private static boolean notAValidRequest(byte[] payload) {
    try {
      AgentWire.decodeRequest(payload);
      return false;
    } catch (Exception e) {
      return true;
    }
  }

  private static String quote(String s) {
    try {
      return AgentWire.MAPPER.writeValueAsString(s);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A byte stream of one to five hostile pieces, framed or not. */
  @Provide
  static Arbitrary<List<byte[]>> hostileStreams() {
    Arbitrary<byte[]> piece =
        Arbitraries.oneOf(
            randomBytes(),
            oversizedPrefix(),
            truncatedFrame(),
            wellFramedGarbage().map(AgentFrameFuzzProperties::frame));
    return piece.list().ofMinSize(1).ofMaxSize(5);
  }

  // ---- properties ----

  @Property(tries = 30)
  void agentSurvivesAnyMalformedFrame(@ForAll("hostileStreams") List<byte[]> stream)
      throws IOException {
    TRIES.incrementAndGet();
    try (Hostile.RawClient c = new Hostile.RawClient(address, agent.thumbprint())) {
      try {
        for (byte[] piece : stream) {
          c.raw(piece);
        }
      } catch (IOException e) {
        // the agent may close the connection on a framing error: that is the documented outcome
      }
    }
    assertAgentStillServes();
  }

  @Property(tries = 30)
  void wellFramedGarbageGetsANamedErrorAndTheConnectionGoesOn(
      @ForAll("wellFramedGarbage") byte[] payload) throws IOException {
    try (Hostile.RawClient c = new Hostile.RawClient(address, agent.thumbprint())) {
      String reply = c.call(payload);
      assertThat(reply).as("a reply to a well-framed bad request").isNotNull();
      assertThat(AgentWire.MAPPER.readTree(reply).path("error").asText(""))
          .as("the error names what was wrong")
          .containsAnyOf(
              "not valid JSON",
              "unknown message type",
              "unknown field",
              "malformed",
              "no 'type'",
              "is not valid",
              "is required");
      assertThat(c.call("{\"type\":\"ping\",\"body\":{}}")).contains("\"error\":null");
    }
    assertThat(agent.process().isAlive()).isTrue();
  }

  @Example
  void agentAnswersAFloodOfSmallFramesInOrder() throws Exception {
    int n = 3_000;
    try (Hostile.RawClient c = new Hostile.RawClient(address, agent.thumbprint())) {
      // Write on another thread while this one reads: the agent's replies must not be held up
      // behind our writes (that would deadlock on full socket buffers).
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                try {
                  for (int i = 0; i < n; i++) {
                    String t = i % 3 == 0 ? "ping" : i % 3 == 1 ? "heartbeat" : "nonsense-" + i;
                    AgentWire.writeFrame(c.out, utf8("{\"type\":\"" + t + "\",\"body\":{}}"));
                  }
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      for (int i = 0; i < n; i++) {
        String reply = c.read();
        assertThat(reply).as("reply %d", i).isNotNull();
        if (i % 3 == 2) {
          assertThat(reply).contains("unknown message type 'nonsense-" + i + "'");
        } else {
          assertThat(reply).contains("\"error\":null");
        }
      }
      writer.get(30, TimeUnit.SECONDS);
    }
    assertAgentStillServes();
  }

  @Example
  void aFloodOfEmptyFramesGetsAnErrorEachAndTheAgentGoesOn() throws Exception {
    int n = 2_000;
    try (Hostile.RawClient c = new Hostile.RawClient(address, agent.thumbprint())) {
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                try {
                  for (int i = 0; i < n; i++) {
                    AgentWire.writeFrame(c.out, new byte[0]);
                  }
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      for (int i = 0; i < n; i++) {
        assertThat(c.read()).contains("not valid JSON");
      }
      writer.get(30, TimeUnit.SECONDS);
      assertThat(c.call("{\"type\":\"ping\",\"body\":{}}")).contains("\"error\":null");
    }
    assertAgentStillServes();
  }

  @Example
  void aClientWithAnUnpinnedCertificateIsRefusedBeforeAnyMessage() {
    TentacleCertificate stranger = TentacleCertificate.generate("stranger");
    assertThatThrownBy(() -> new Hostile.RawClient(address, agent.thumbprint(), stranger).close())
        .isInstanceOf(IOException.class);
    Hostile.awaitUntil(
        Duration.ofSeconds(10),
        () -> agent.output().stream().anyMatch(l -> l.contains(stranger.thumbprint())),
        "the agent's log naming the refused thumbprint");
    assertAgentStillServes();
  }

  @Example
  void aConnectionThatStopsInsideAFrameDoesNotHoldTheAgent() throws IOException {
    try (Hostile.RawClient stalled = new Hostile.RawClient(address, agent.thumbprint())) {
      stalled.raw(new byte[] {0, 0, 0, 50, '{', '"'}); // announces 50 bytes, sends 2, then waits
      assertAgentStillServes();
    }
    assertAgentStillServes();
  }
}
