package io.workerpools.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.local.LocalProcessTransport;
import io.workerpools.tentacle.TentacleTransport;
import org.junit.jupiter.api.Test;

/** The suite's classpath holds the transports it drives. */
class ModuleWiringTest {
  @Test
  void theTransportsUnderTestAreOnTheClasspath() {
    assertThat(LocalProcessTransport.class.getPackageName()).isEqualTo("io.workerpools.local");
    assertThat(TentacleTransport.LISTENING).isEqualTo("tentacle-listening");
  }
}
