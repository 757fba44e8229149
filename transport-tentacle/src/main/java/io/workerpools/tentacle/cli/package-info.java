/**
 * The agent's command line ({@code java -jar workerpools-agent.jar}): subcommands on picocli, the
 * config file and its settings, the agent's home, its log output, and the systemd unit. {@link
 * io.workerpools.tentacle.AgentMain} is the entry point; the operator guide is {@code
 * docs/agent.md}.
 */
package io.workerpools.tentacle.cli;
