package io.workerpools.tentacle.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalInt;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/** The version negotiation's rules (issue 19), for any two ranges. */
class ProtocolVersionsProperties {
  @Provide
  Arbitrary<ProtocolVersions> ranges() {
    return Combinators.combine(
            Arbitraries.integers().between(1, 12), Arbitraries.integers().between(0, 4))
        .as((min, width) -> new ProtocolVersions(min, min + width));
  }

  @Property(tries = 500)
  void theChosenVersionIsTheNewestBothSpeakAndNoneExactlyWhenTheRangesAreDisjoint(
      @ForAll("ranges") ProtocolVersions server, @ForAll("ranges") ProtocolVersions client) {
    OptionalInt chosen = server.choose(client.min(), client.max());
    boolean disjoint = server.max() < client.min() || client.max() < server.min();
    Statistics.label("ranges").collect(disjoint ? "disjoint" : "overlapping");
    Statistics.label("ranges")
        .coverage(
            c -> {
              c.check("disjoint").percentage(p -> p > 10);
              c.check("overlapping").percentage(p -> p > 10);
            });
    assertThat(chosen.isEmpty()).isEqualTo(disjoint);
    if (chosen.isPresent()) {
      int v = chosen.getAsInt();
      assertThat(server.speaks(v) && client.speaks(v)).isTrue();
      assertThat(server.speaks(v + 1) && client.speaks(v + 1)).as("none newer in common").isFalse();
      assertThat(client.choose(server.min(), server.max())).as("symmetric").isEqualTo(chosen);
    } else {
      String why = server.noCommonVersion("agent", "host", client.min(), client.max());
      assertThat(why)
          .contains("the host speaks " + client)
          .contains("this agent speaks " + server)
          .endsWith(client.max() < server.min() ? "upgrade the host" : "upgrade the agent");
    }
  }

  @Property(tries = 200)
  void aHelloParsesBackToTheRangeItAnnounces(
      @ForAll("ranges") ProtocolVersions range, @ForAll boolean poll) throws Exception {
    String words = poll ? "POLL sub-1" : "CLIENT";
    ProtocolVersions.Line line = ProtocolVersions.parse(range.hello(words));
    assertThat(line.version()).isEqualTo(range.max());
    assertThat(line.min()).isEqualTo(range.min());
    assertThat(line.words()).isEqualTo(words);
  }
}
