package io.workerpools.tentacle.internal;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Found by the hostile fuzz suite: a frame holding the JSON literal {@code null} made the decoder
 * return null, and the agent's connection thread died on it (the host saw its connection closed
 * instead of an error reply).
 */
class WireNullTest {
  @Test
  void aJsonNullRequestIsANamedProtocolErrorNotANullEnvelope() {
    assertThatThrownBy(() -> Wire.decodeRequest("null".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(ProtocolViolationException.class)
        .hasMessageContaining("not valid JSON")
        .hasMessageContaining("null, not an object");
  }
}
