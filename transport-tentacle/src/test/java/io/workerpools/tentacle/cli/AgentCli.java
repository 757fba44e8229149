package io.workerpools.tentacle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.tentacle.AgentProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the agent's command line as a separate process, as an operator would. */
final class AgentCli {
  private AgentCli() {}

  /** What one run printed and how it ended. */
  record Run(int exit, String out, String err) {
    List<String> outLines() {
      return out.lines().toList();
    }

    List<String> errLines() {
      return err.lines().toList();
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** Runs {@code args} to its end (at most 60 s), in {@code dir}, with {@code env} added. */
  static Run run(Path dir, Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    Process p = start(dir, env, args);
    boolean ended = p.waitFor(60, TimeUnit.SECONDS);
    if (!ended) {
      p.destroyForcibly();
    }
    Run r = collect(dir, p);
    assertThat(ended).as("the agent command ended within 60 s: %s", r).isTrue();
    return r;
  }

  static Run run(Path dir, String... args) throws IOException, InterruptedException {
    return run(dir, Map.of(), args);
  }

  /** Starts {@code args}; stdout and stderr go to files in {@code dir}. */
  static Process start(Path dir, Map<String, String> env, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(AgentProcess.classpath());
    cmd.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectOutput(dir.resolve("stdout.txt").toFile())
            .redirectError(dir.resolve("stderr.txt").toFile());
    pb.environment().remove(AgentHome.ENV);
    pb.environment().putAll(env);
    return pb.start();
  }

  /** What an ended process printed. */
  static Run collect(Path dir, Process p) throws IOException {
    return new Run(
        p.exitValue(),
        Files.readString(dir.resolve("stdout.txt"), StandardCharsets.UTF_8),
        Files.readString(dir.resolve("stderr.txt"), StandardCharsets.UTF_8));
  }
}
