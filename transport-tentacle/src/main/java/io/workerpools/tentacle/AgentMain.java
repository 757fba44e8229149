package io.workerpools.tentacle;

import io.workerpools.tentacle.cli.AgentLog;
import io.workerpools.tentacle.cli.Cli;

/**
 * The agent program's entry point: {@code java -jar workerpools-agent.jar COMMAND [OPTIONS]}. The
 * command line itself lives in {@link io.workerpools.tentacle.cli}; see {@code docs/agent.md}.
 */
public final class AgentMain {
  private AgentMain() {}

  /** Entry point: runs the command and exits with its code (a running agent: when it stops). */
  public static void main(String[] args) {
    // Before anything logs: this program's own SLF4J binding (timestamps, levels, JSON lines),
    // whatever else is on the class path, and no SLF4J banner about choosing it.
    System.setProperty("slf4j.provider", AgentLog.class.getName());
    System.setProperty("slf4j.internal.verbosity", "WARN");
    System.exit(Cli.run(args, System.out, System.err));
  }
}
