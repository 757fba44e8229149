package io.workerpools.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway local OS user for tests that need a second, hostile user on the host (as the SSH
 * tests make one): created with {@code useradd}, removed with {@code userdel} on close. Needs the
 * tests to run as root, as CI does; otherwise it fails saying so.
 */
final class OtherUser implements AutoCloseable {
  final String name;
  final int uid;
  private final List<Process> started = new ArrayList<>();

  private OtherUser(String name, int uid) {
    this.name = name;
    this.uid = uid;
  }

  static OtherUser create() {
    try {
      Object me = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      if (!Integer.valueOf(0).equals(me)) {
        throw new AssertionError(
            "this test needs a second local user, which only root can create; run the tests as"
                + " root (as CI does)");
      }
      String name = "wpl" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
      run(List.of("useradd", "-M", "-d", "/nonexistent", "-s", "/bin/bash", name));
      String uid = run(List.of("id", "-u", name)).trim();
      return new OtherUser(name, Integer.parseInt(uid));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs a bash command line as this user; returns its output (stdout and stderr). */
  String bash(String script, String... args) {
    List<String> cmd = new ArrayList<>(List.of("runuser", "-u", name, "--", "bash", "-c", script));
    cmd.add("as-" + name);
    cmd.addAll(List.of(args));
    return run(cmd);
  }

  /** Starts a bash command line as this user without waiting for it. */
  Process start(String script, String... args) {
    List<String> cmd = new ArrayList<>(List.of("runuser", "-u", name, "--", "bash", "-c", script));
    cmd.add("as-" + name);
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      synchronized (started) {
        started.add(p);
      }
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(cmd + " did not finish in 60 s");
      }
      if (p.exitValue() != 0) {
        throw new AssertionError(cmd + " exited with " + p.exitValue() + ": " + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Kills what {@link #start} started (and its descendants), waits for them to end, and removes the
   * user; {@code userdel} refuses while a process of the user still runs, so it is retried (a
   * short-lived child forked just before the kill may still be ending) up to a deadline.
   */
  @Override
  public void close() {
    stopAll();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        run(List.of("userdel", name));
        return;
      } catch (AssertionError e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.onSpinWait();
      }
    }
  }

  /**
   * Kills what {@link #start} started (and its descendants) and waits until no process of the user
   * is left, so that nothing of theirs still writes into a directory a test is about to delete.
   */
  public void stopAll() {
    List<ProcessHandle> all = new ArrayList<>();
    synchronized (started) {
      for (Process p : started) {
        all.addAll(p.descendants().toList());
        all.add(p.toHandle());
      }
    }
    all.forEach(ProcessHandle::destroyForcibly);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (ProcessHandle h : all) {
      try {
        h.onExit().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError("process " + h.pid() + " of " + name + " did not end", e);
      }
    }
    // A child forked just before the kill is not among the descendants seen above: kill by user
    // until none is left.
    while (processesLeft()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("processes of " + name + " still running after 30 s");
      }
      try {
        new ProcessBuilder("pkill", "-KILL", "-u", name).start().waitFor(10, TimeUnit.SECONDS);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private boolean processesLeft() {
    try {
      Process p = new ProcessBuilder("pgrep", "-u", name).redirectErrorStream(true).start();
      p.getOutputStream().close();
      p.getInputStream().readAllBytes();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("pgrep -u " + name + " did not finish in 10 s");
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
