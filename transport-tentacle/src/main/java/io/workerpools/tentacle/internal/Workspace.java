package io.workerpools.tentacle.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.workerpools.tentacle.internal.Messages.LogEntry;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable journal of one ticket, {@code <work>/<ticket>/}: {@code script.*}, the working
 * directory {@code work/}, an append-only JSON-lines log {@code log.jsonl} (masked before it is
 * written, flushed per line) and {@code state.json} (written atomically: temp file + rename). All
 * of it owner-only (0700/0600). Results and logs survive an agent restart; processes do not.
 */
final class Workspace {
  private static final Logger LOG = LoggerFactory.getLogger(Workspace.class);
  private static final ObjectMapper JSON = Wire.MAPPER;

  /** The persisted state of a run. */
  record State(
      String ticket,
      String state,
      String outcome,
      int exitCode,
      String message,
      long startedMillis,
      long endedMillis) {}

  final Path dir;
  private BufferedWriter logWriter;

  Workspace(Path dir) {
    this.dir = dir;
  }

  /** Creates the directories of a new workspace. */
  static Workspace create(Path dir) throws IOException {
    OwnerOnly.createDirectories(dir);
    OwnerOnly.createDirectories(dir.resolve("work"));
    return new Workspace(dir);
  }

  /** The script's working directory. */
  Path workDir() {
    return dir.resolve("work");
  }

  boolean exists() {
    return Files.exists(dir.resolve("state.json"));
  }

  State readState() throws IOException {
    return JSON.readValue(dir.resolve("state.json").toFile(), State.class);
  }

  void writeState(State s) throws IOException {
    write(dir, s);
  }

  private static void write(Path dir, State s) throws IOException {
    Path tmp = dir.resolve("state.json.tmp");
    OwnerOnly.write(tmp, JSON.writeValueAsBytes(s));
    try {
      Files.move(
          tmp,
          dir.resolve("state.json"),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, dir.resolve("state.json"), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** The log so far; a line cut short by a crash is skipped, the rest is still good. */
  List<LogEntry> readLog() throws IOException {
    List<LogEntry> out = new ArrayList<>();
    Path log = dir.resolve("log.jsonl");
    if (Files.exists(log)) {
      try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
        lines
            .filter(l -> !l.isBlank())
            .forEach(
                l -> {
                  try {
                    out.add(JSON.readValue(l, LogEntry.class));
                  } catch (IOException e) {
                    // cut short by a crash
                  }
                });
      }
    }
    return out;
  }

  /** Appends one (already masked) entry and flushes it. */
  synchronized void append(LogEntry e) throws IOException {
    if (logWriter == null) {
      OwnerOnly.create(dir.resolve("log.jsonl"));
      logWriter =
          Files.newBufferedWriter(
              dir.resolve("log.jsonl"),
              StandardCharsets.UTF_8,
              StandardOpenOption.CREATE,
              StandardOpenOption.APPEND);
    }
    logWriter.write(JSON.writeValueAsString(e));
    logWriter.write('\n');
    logWriter.flush();
  }

  synchronized void closeLog() {
    if (logWriter != null) {
      try {
        logWriter.close();
      } catch (IOException e) {
        // nothing more to write
      }
      logWriter = null;
    }
  }

  /** Deletes the workspace. */
  void delete() {
    closeLog();
    deleteTree(dir);
  }

  /**
   * Opens a work root: runs a previous agent process left {@code PENDING} or {@code RUNNING} are
   * marked {@code COMPLETE} with {@code UNKNOWN_RESULT}; workspaces older than {@code retention}
   * are deleted.
   */
  static void recover(Path root, Duration retention) {
    long cutoff = System.currentTimeMillis() - retention.toMillis();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
      for (Path dir : dirs) {
        Path stateFile = dir.resolve("state.json");
        if (!Files.isRegularFile(stateFile)) {
          continue;
        }
        try {
          State s = JSON.readValue(stateFile.toFile(), State.class);
          if (Files.getLastModifiedTime(stateFile).toMillis() < cutoff) {
            LOG.info("deleting the stale workspace of ticket {}", s.ticket());
            deleteTree(dir);
            continue;
          }
          if (!"COMPLETE".equals(s.state())) {
            write(
                dir,
                new State(
                    s.ticket(),
                    "COMPLETE",
                    AgentOutcome.UNKNOWN_RESULT.name(),
                    AgentOutcome.UNKNOWN_RESULT.code(),
                    "the agent restarted while the script ran; its outcome is unknown",
                    s.startedMillis(),
                    System.currentTimeMillis()));
          }
        } catch (IOException e) {
          LOG.warn("ignoring the unreadable workspace {}: {}", dir.getFileName(), e.toString());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the work directory " + root, e);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  LOG.warn("cannot delete {}: {}", p, e.toString());
                }
              });
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.toString());
    }
  }
}
