package io.workerpools.tentacle.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The top command: options every subcommand shares, and the list of subcommands. */
@Command(
    name = "workerpools-agent",
    mixinStandardHelpOptions = true,
    versionProvider = AgentCommand.Version.class,
    sortOptions = false,
    header =
        "The WorkerPools agent: runs a host's scripts over mutual TLS with pinned thumbprints.",
    synopsisSubcommandLabel = "COMMAND",
    description = {
      "Run it as: java -jar workerpools-agent.jar COMMAND [OPTIONS]. Each command has --help.",
      "Settings come from the config file (HOME/agent.properties, or --config FILE); a flag"
          + " overrides the file. The operator guide is docs/agent.md."
    },
    subcommands = {
      NewCertificateCommand.class,
      ShowThumbprintCommand.class,
      ShowConfigCommand.class,
      ConfigureCommand.class,
      EnrolCommand.class,
      RunCommand.Listen.class,
      RunCommand.Poll.class,
      ServiceCommand.class,
      picocli.CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "  0:success",
      "  1:the command failed: an I/O error, no certificate yet, a port in use",
      "  2:bad usage: an unknown or malformed argument, a bad config file, an unsafe home",
      "143:a running agent stopped by SIGTERM (130: by SIGINT)"
    })
public final class AgentCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--home",
      paramLabel = "DIR",
      scope = ScopeType.INHERIT,
      description =
          "the agent's state: certificate, trusted hosts, config file, workspaces (default:"
              + " $WORKERPOOLS_AGENT_HOME, else /var/lib/workerpools-agent for root, else"
              + " $XDG_DATA_HOME/workerpools-agent)")
  Path home;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      description = "the config file (default: HOME/agent.properties, if it exists)")
  Path config;

  /** Called by picocli. */
  public AgentCommand() {}

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("error: give a COMMAND");
    spec.commandLine().usage(spec.commandLine().getErr());
    return Cli.USAGE;
  }

  /** {@code --version}: the jar manifest's {@code Implementation-Version}. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {
        "workerpools-agent " + version(),
        "protocol WORKERPOOLS-TENTACLE/1; Java " + System.getProperty("java.version")
      };
    }
  }

  /** The version in the jar's manifest, or a note that this is not the packaged jar. */
  static String version() {
    String v = AgentCommand.class.getPackage().getImplementationVersion();
    return v != null ? v : "(development build: not run from the packaged jar)";
  }
}
