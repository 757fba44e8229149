package io.workerpools.tentacle.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The default home's rule, case by case (the process tests run it for this machine's user). */
class AgentHomeTest {
  @Test
  void rootGetsVarLibOthersTheXdgDataDirAndTheEnvironmentVariableWins() {
    assertThat(AgentHome.defaultHome(0, Map.of(), "/root"))
        .isEqualTo(Path.of("/var/lib/workerpools-agent"));
    assertThat(AgentHome.defaultHome(1000, Map.of(), "/home/ann"))
        .isEqualTo(Path.of("/home/ann/.local/share/workerpools-agent"));
    assertThat(AgentHome.defaultHome(1000, Map.of("XDG_DATA_HOME", "/data/ann"), "/home/ann"))
        .isEqualTo(Path.of("/data/ann/workerpools-agent"));
    assertThat(AgentHome.defaultHome(1000, Map.of("XDG_DATA_HOME", "rel"), "/home/ann"))
        .as("a relative XDG_DATA_HOME is ignored, as the XDG spec says")
        .isEqualTo(Path.of("/home/ann/.local/share/workerpools-agent"));
    assertThat(AgentHome.defaultHome(0, Map.of(AgentHome.ENV, "/srv/agent/"), "/root"))
        .isEqualTo(Path.of("/srv/agent"));
  }

  @Test
  void withoutAnAbsoluteHomeDirectoryTheHomeMustBeGiven() {
    assertThatThrownBy(() -> AgentHome.defaultHome(1000, Map.of(), null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("give --home DIR");
    assertThatThrownBy(() -> AgentHome.defaultHome(1000, Map.of(), "."))
        .isInstanceOf(ConfigurationException.class);
    assertThatThrownBy(() -> AgentHome.defaultHome(0, Map.of(AgentHome.ENV, "agent-home"), "/"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining(AgentHome.ENV)
        .hasMessageContaining("relative");
  }
}
