package io.workerpools.tentacle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The config file reference in docs/agent.md lists every setting, with its flag and default. */
class SettingReferenceTest {
  @Test
  void theOperatorGuideListsEveryKeyWithItsFlagAndDefault() throws Exception {
    Path guide = Path.of("..", "docs", "agent.md");
    List<String> rows =
        Files.readAllLines(guide).stream().filter(l -> l.startsWith("| `")).toList();
    for (Setting s : Setting.values()) {
      String start = "| `" + s.key() + "` | `" + s.flag() + "`";
      assertThat(rows).as("a row for %s", s.key()).anyMatch(r -> r.startsWith(start));
      if (s.defaultValue() != null
          && !s.defaultValue().isEmpty()
          && s != Setting.POLL_CONNECTIONS) {
        assertThat(rows)
            .as("%s's default", s.key())
            .anyMatch(r -> r.startsWith(start) && r.contains("`" + s.defaultValue() + "`"));
      }
    }
  }
}
