package io.workerpools.tentacle.internal;

import java.util.OptionalInt;

/**
 * The protocol versions one side speaks, a contiguous range, and the preamble negotiation.
 *
 * <p>The side that opens the connection (the host to a listening agent, a polling agent to the
 * host) sends {@code WORKERPOOLS-TENTACLE/<max> WORDS [min=<min>]}: the newest version it speaks,
 * and the oldest if older ({@code min=} absent: only that one). The other side answers with the
 * newest version both speak, {@code WORKERPOOLS-TENTACLE/<chosen> OK ...}, and both speak it from
 * then on; if the ranges do not meet it answers {@code WORKERPOOLS-TENTACLE/<its max> ERROR no
 * common protocol version: ...}, naming both ranges and which side to upgrade, logs the same and
 * closes. The opener checks that the chosen version is one it speaks.
 */
public record ProtocolVersions(int min, int max) {
  /** The protocol's name in every preamble line. */
  public static final String NAME = "WORKERPOOLS-TENTACLE";

  /** What this build speaks. */
  public static final ProtocolVersions CURRENT = new ProtocolVersions(1, 1);

  /** The highest version number accepted in a preamble line (keeps parsing bounded). */
  public static final int MAX_VERSION = 9999;

  /** Validates the range. */
  public ProtocolVersions {
    if (min < 1 || max < min || max > MAX_VERSION) {
      throw new io.workerpools.ConfigurationException(
          "protocolVersions", "need 1 <= min <= max <= 9999 but was " + min + ", " + max);
    }
  }

  /** One preamble line, parsed: its version, its words, and the sender's oldest version. */
  public record Line(int version, String words, int min) {}

  /** The opener's line: {@code NAME/max WORDS [min=MIN]}. */
  public String hello(String words) {
    return NAME + "/" + max + " " + words + (min < max ? " min=" + min : "");
  }

  /** The answer that accepts, speaking {@code chosen}: {@code NAME/chosen OK[ rest]}. */
  public static String ok(int chosen, String rest) {
    return NAME + "/" + chosen + " OK" + (rest.isEmpty() ? "" : " " + rest);
  }

  /** The answer that refuses: {@code NAME/max ERROR why}. */
  public String error(String why) {
    return NAME + "/" + max + " ERROR " + why;
  }

  /** The newest version both this range and {@code [peerMin, peerMax]} hold, if any. */
  public OptionalInt choose(int peerMin, int peerMax) {
    int chosen = Math.min(max, peerMax);
    return chosen >= Math.max(min, peerMin) ? OptionalInt.of(chosen) : OptionalInt.empty();
  }

  /** Whether this side speaks {@code version}. */
  public boolean speaks(int version) {
    return version >= min && version <= max;
  }

  /**
   * Why two sides cannot talk, naming both ranges and which one to upgrade, e.g. {@code no common
   * protocol version: the host speaks 1 to 1, this agent speaks 2 to 3; upgrade the host}.
   */
  public String noCommonVersion(String self, String peer, int peerMin, int peerMax) {
    String older = peerMax < min ? peer : self;
    return "no common protocol version: the "
        + peer
        + " speaks "
        + peerMin
        + " to "
        + peerMax
        + ", this "
        + self
        + " speaks "
        + min
        + " to "
        + max
        + "; upgrade the "
        + older;
  }

  /** A range's text for messages: {@code 1 to 2}. */
  @Override
  public String toString() {
    return min + " to " + max;
  }

  /**
   * Parses {@code NAME/<version> WORDS [min=<min>]}.
   *
   * @throws ProtocolViolationException if the line is not a preamble of this protocol
   */
  public static Line parse(String line) throws ProtocolViolationException {
    String prefix = NAME + "/";
    int space = line.indexOf(' ');
    if (!line.startsWith(prefix) || space < 0) {
      throw notOurs(line);
    }
    String v = line.substring(prefix.length(), space);
    if (!v.matches("[1-9][0-9]{0,3}")) {
      throw notOurs(line);
    }
    int version = Integer.parseInt(v);
    String words = line.substring(space + 1);
    int min = version;
    int at = words.lastIndexOf(" min=");
    if (at >= 0 && !words.startsWith("ERROR")) {
      String m = words.substring(at + 5);
      if (!m.matches("[1-9][0-9]{0,3}") || Integer.parseInt(m) > version) {
        throw new ProtocolViolationException(
            "bad 'min=' in preamble '" + line + "': expected a version from 1 to " + version, true);
      }
      min = Integer.parseInt(m);
      words = words.substring(0, at);
    }
    return new Line(version, words, min);
  }

  private static ProtocolViolationException notOurs(String line) {
    return new ProtocolViolationException(
        "expected a preamble starting with '" + NAME + "/<version> ' but got '" + line + "'", true);
  }
}
