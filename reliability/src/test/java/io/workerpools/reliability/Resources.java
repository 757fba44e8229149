package io.workerpools.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A snapshot of this JVM's live threads and open file descriptors, to compare before and after a
 * run. Two kinds of thing are left out, because the JDK owns them and keeps them on purpose:
 *
 * <ul>
 *   <li>threads of the JDK's own shared pools, which idle out on their own schedule (the process
 *       reaper, the common fork-join pool) and the JVM's service threads;
 *   <li>descriptors of class-path jars and JDK files (opened when a class is first loaded, kept for
 *       the life of the class loader) and of the random devices (kept by {@code SecureRandom}).
 * </ul>
 *
 * Sockets, pipes and other files are compared by kind ({@code socket}, {@code pipe}, the path).
 */
record Resources(Set<Thread> threads, Map<String, Integer> fds) {

  private static final List<String> JDK_THREADS =
      List.of(
          "process reaper",
          "ForkJoinPool.commonPool",
          "Attach Listener",
          "Common-Cleaner",
          "Signal Dispatcher",
          "Reference Handler",
          "Finalizer",
          "Notification Thread",
          "JFR ",
          "Keep-Alive-");

  static Resources now() {
    Set<Thread> ts =
        Thread.getAllStackTraces().keySet().stream()
            .filter(Thread::isAlive)
            .filter(t -> JDK_THREADS.stream().noneMatch(p -> t.getName().startsWith(p)))
            .collect(Collectors.toSet());
    return new Resources(ts, openFds());
  }

  /** Open descriptors by kind; empty where {@code /proc/self/fd} does not exist. */
  static Map<String, Integer> openFds() {
    Map<String, Integer> out = new TreeMap<>();
    Path dir = Path.of("/proc/self/fd");
    if (!Files.isDirectory(dir)) {
      return out;
    }
    String javaHome = System.getProperty("java.home");
    List<Path> entries;
    try (Stream<Path> s = Files.list(dir)) {
      entries = s.toList();
    } catch (IOException e) {
      return out;
    }
    for (Path p : entries) {
      String target;
      try {
        target = Files.readSymbolicLink(p).toString();
      } catch (IOException e) {
        continue; // closed meanwhile (the listing's own descriptor, for one)
      }
      if (target.endsWith(".jar")
          || target.startsWith(javaHome)
          || target.equals("/dev/random")
          || target.equals("/dev/urandom")) {
        continue;
      }
      String kind =
          target.startsWith("socket:")
              ? "socket"
              : target.startsWith("pipe:") ? "pipe" : target.replaceAll("\\[\\d+\\]", "");
      out.merge(kind, 1, Integer::sum);
    }
    return out;
  }

  int fdCount() {
    return fds.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** Threads alive now that were not alive in {@code before}. */
  List<String> threadsNotIn(Resources before) {
    List<String> out = new ArrayList<>();
    for (Thread t : threads) {
      if (t.isAlive() && !before.threads.contains(t)) {
        out.add(t.getName());
      }
    }
    out.sort(null);
    return out;
  }

  /** Descriptor kinds open now in greater number than in {@code before}, with the excess. */
  Map<String, Integer> fdsAbove(Resources before) {
    Map<String, Integer> out = new TreeMap<>();
    fds.forEach(
        (k, n) -> {
          int was = before.fds.getOrDefault(k, 0);
          if (n > was) {
            out.put(k, n - was);
          }
        });
    return out;
  }
}
