package io.workerpools.tentacle.cli;

import io.workerpools.ConfigurationException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Builds the agent's command line and runs one command: {@link #run} returns the exit code
 * (documented in the usage text and in {@code docs/agent.md}).
 */
public final class Cli {
  /** Exit code: success. */
  public static final int OK = 0;

  /** Exit code: the command failed (I/O error, no certificate, port in use). */
  public static final int FAILED = 1;

  /** Exit code: bad usage (unknown or malformed argument, bad config file, unsafe home). */
  public static final int USAGE = 2;

  private Cli() {}

  /** The command line, with a flag for every {@link Setting} on the commands it applies to. */
  static CommandLine commandLine(PrintStream out, PrintStream err) {
    CommandLine cl = new CommandLine(new AgentCommand());
    addSettings(cl.getCommandSpec(), Setting.Scope.ALL);
    for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
      CommandSpec sub = e.getValue().getCommandSpec();
      if (sub.name().equals(e.getKey()) && sub.mixins().containsKey("invocation")) {
        addSettings(sub, Invocation.scopeOf(sub.name()));
      }
    }
    cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
    cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          PrintWriter w = ex.getCommandLine().getErr();
          w.println("error: " + ex.getMessage());
          ex.getCommandLine().usage(w);
          return USAGE;
        });
    cl.setExecutionExceptionHandler(
        (ex, line, parsed) -> {
          PrintWriter w = line.getErr();
          w.println("error: " + ex.getMessage());
          if (ex instanceof ConfigurationException c) {
            if (c.field().startsWith("-")) {
              w.println("Run '" + line.getCommandSpec().qualifiedName() + " --help' for usage.");
            }
            return USAGE;
          }
          return FAILED;
        });
    return cl;
  }

  private static void addSettings(CommandSpec spec, Setting.Scope scope) {
    for (Setting s : Setting.values()) {
      if (!s.scope().appliesTo(scope)) {
        continue;
      }
      String fallback =
          s.defaultValue() == null || s.defaultValue().isEmpty()
              ? ""
              : " (default " + s.defaultValue() + ")";
      OptionSpec.Builder b =
          OptionSpec.builder(s.flag())
              .paramLabel(s.label())
              .arity("1")
              .description(s.description() + fallback + "; file key " + s.key());
      if (s.repeatable()) {
        b.type(List.class).auxiliaryTypes(String.class);
      } else {
        b.type(String.class);
      }
      spec.addOption(b.build());
    }
  }

  /**
   * Runs {@code args}; returns the exit code. A running agent ({@code listen}, {@code poll})
   * returns only when it stops.
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return commandLine(out, err).execute(args);
  }
}
