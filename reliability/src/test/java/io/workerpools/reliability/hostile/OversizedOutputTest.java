package io.workerpools.reliability.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.workerpools.dispatch.StepResult;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.reliability.hostile.Rig.Target;
import io.workerpools.tentacle.AgentWire;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Oversized lines and binary output, through the built-in worker (local child process) and through
 * an agent process: the step completes, the host receives lines of bounded size, nothing is lost,
 * and the lease is released.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(SharedRig.class)
class OversizedOutputTest {
  /** The largest line the host may receive, in UTF-8 bytes. */
  static final int LINE_BOUND = LocalProcessTransport.DEFAULT_MAX_LINE_BYTES;

  static final int TEN_MIB = 10 * 1024 * 1024;

  Rig rig;

  @BeforeAll
  void start(Rig shared) throws IOException {
    rig = shared;
  }

  private void assertBoundedAndReleased(Rig.Lines lines) {
    for (String t : lines.texts()) {
      assertThat(t.getBytes(StandardCharsets.UTF_8).length)
          .as("every line the host receives is bounded")
          .isLessThanOrEqualTo(LINE_BOUND);
    }
    Hostile.awaitUntil(Duration.ofSeconds(20), rig::idle, "the lease released");
  }

  private static long count(List<String> texts, char c) {
    long n = 0;
    for (String t : texts) {
      for (int i = 0; i < t.length(); i++) {
        if (t.charAt(i) == c) {
          n++;
        }
      }
    }
    return n;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Target.class)
  void aTenMebibyteLineWithoutANewlineArrivesInBoundedPiecesWithNothingLost(Target target) {
    Rig.Lines lines = new Rig.Lines();
    StepResult r =
        rig.run(
            Rig.step(
                "ten-mib-" + target,
                target,
                ScriptRequest.bash(
                    "echo before\nhead -c " + TEN_MIB + " /dev/zero | tr '\\0' x\n")),
            lines);
    assertThat(r.status()).as(r.toString()).isEqualTo(StepResult.Status.SUCCEEDED);
    List<String> out = lines.texts(LogLine.Source.STDOUT);
    assertThat(out.get(0)).isEqualTo("before");
    assertThat(count(out, 'x')).as("every byte of the long line arrived").isEqualTo(TEN_MIB);
    assertThat(out.size()).as("split into pieces").isGreaterThan(TEN_MIB / LINE_BOUND);
    assertBoundedAndReleased(lines);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Target.class)
  void invalidUtf8AndBinaryOutputArriveAsReplacedTextAndTheStepSucceeds(Target target) {
    Rig.Lines lines = new Rig.Lines();
    StepResult r =
        rig.run(
            Rig.step(
                "binary-" + target,
                target,
                ScriptRequest.bash(
                    "printf 'a\\xff\\xfeb\\n'\n"
                        + "printf 'half \\xe2\\x82\\n'\n"
                        + "head -c 300000 /dev/urandom\n"
                        + "printf '\\0\\0\\0\\n'\n"
                        + "echo end >&2\n")),
            lines);
    assertThat(r.status()).as(r.toString()).isEqualTo(StepResult.Status.SUCCEEDED);
    List<String> out = lines.texts(LogLine.Source.STDOUT);
    assertThat(out.get(0)).isEqualTo("a\uFFFD\uFFFDb");
    assertThat(out.get(1)).startsWith("half ").contains("\uFFFD");
    assertThat(lines.texts(LogLine.Source.STDERR)).containsExactly("end");
    assertBoundedAndReleased(lines);
  }

  /**
   * The agent's status replies stay under the frame limit however much a script printed between two
   * status calls: the host pages through the log and gets all of it.
   */
  @Test
  void agentStatusRepliesStayUnderTheFrameLimitAndPageThroughAHugeBacklog() throws Exception {
    int lineLength = 16_000;
    int lineCount = 1_100; // 17.6 MB of log text: more than one 16 MiB frame holds
    InetSocketAddress a = new InetSocketAddress("127.0.0.1", rig.agent.port());
    try (Hostile.RawClient c = new Hostile.RawClient(a, rig.agent.thumbprint())) {
      String body = "yes " + "y".repeat(lineLength) + " | head -n " + lineCount;
      String start =
          "{\"type\":\"script.start\",\"body\":{\"ticket\":\"backlog-1\",\"syntax\":\"BASH\","
              + "\"body\":"
              + AgentWire.MAPPER.writeValueAsString(body)
              + ",\"arguments\":[],\"environment\":{},\"sensitiveValues\":[],\"files\":[],"
              + "\"timeoutMillis\":60000,\"isolation\":\"NONE\",\"mutexName\":null,"
              + "\"mutexTimeoutMillis\":0,\"waitForMillis\":0}}";
      assertThat(c.call(start)).contains("\"error\":null");
      // Let the whole backlog pile up on the agent without reading any of it.
      Hostile.awaitUntil(
          Duration.ofSeconds(60),
          () -> status(c, Long.MAX_VALUE).path("body").path("outcome").asText("").equals("EXITED"),
          "the script to finish");
      long after = 0;
      long lines = 0;
      int replies = 0;
      while (true) {
        JsonNode st = status(c, after); // Frames.read refuses a frame over 16 MiB
        replies++;
        for (JsonNode l : st.path("body").path("logs")) {
          assertThat(l.path("seq").asLong()).isEqualTo(after + 1);
          assertThat(l.path("text").asText()).hasSize(lineLength);
          after = l.path("seq").asLong();
          lines++;
        }
        if (st.path("body").path("state").asText().equals("COMPLETE")) {
          break;
        }
        assertThat(replies).as("bounded paging").isLessThan(1000);
      }
      assertThat(lines).as("every line delivered once, in order").isEqualTo(lineCount);
      assertThat(replies).as("the backlog came in several bounded replies").isGreaterThan(1);
      assertThat(c.call("{\"type\":\"script.complete\",\"body\":{\"ticket\":\"backlog-1\"}}"))
          .contains("\"error\":null");
    }
    assertThat(rig.agent.process().isAlive()).isTrue();
  }

  private static JsonNode status(Hostile.RawClient c, long after) {
    try {
      AgentWire.writeFrame(
          c.out,
          ("{\"type\":\"script.status\",\"body\":{\"ticket\":\"backlog-1\",\"afterSequence\":"
                  + after
                  + ",\"waitForMillis\":0}}")
              .getBytes(StandardCharsets.UTF_8));
      byte[] reply = AgentWire.readFrame(c.in, AgentWire.MAX_FRAME_BYTES);
      return AgentWire.MAPPER.readTree(reply);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
