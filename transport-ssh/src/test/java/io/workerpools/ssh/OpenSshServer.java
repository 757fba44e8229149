package io.workerpools.ssh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real OpenSSH {@code sshd} on 127.0.0.1 and a free port, started from a temporary directory with
 * generated host keys of the three types a stock Debian server has (ed25519, ECDSA P-256, RSA), its
 * own {@code authorized_keys}, config and pid file; optionally a host certificate for the ed25519
 * key signed by a test CA ({@link #withHostCertificate()}). Used through {@link
 * OpenSshServerExtension}. Also makes client keys with {@code ssh-keygen}, and (when running as
 * root) a throwaway local user with a known password for password authentication.
 */
final class OpenSshServer {
  static final String INSTALL_HINT =
      "OpenSSH's sshd is needed by the SSH transport tests and was not found (looked in PATH,"
          + " /usr/sbin, /usr/local/sbin, /sbin). Install it: on Debian/Ubuntu 'apt-get install -y"
          + " openssh-server', on Fedora/RHEL 'dnf install -y openssh-server', on Alpine 'apk add"
          + " openssh-server', on macOS it ships with the system.";

  private final Path dir;
  private final Path sshd;

  /** The host key types, in the order a Debian sshd_config lists them. */
  static final List<String> HOST_KEY_TYPES = List.of("rsa", "ecdsa", "ed25519");

  private final Path hostKey;
  private Path hostCertificate;
  private Path hostCa;
  private final Path authorizedKeys;
  private final Path config;
  private Process process;
  private int port;
  private String passwordUser;
  private String password;

  OpenSshServer() {
    this.sshd = findSshd().orElseThrow(() -> new AssertionError(INSTALL_HINT));
    try {
      dir = Files.createTempDirectory("wp-sshd-");
      hostKey = dir.resolve("ssh_host_ed25519_key");
      authorizedKeys = dir.resolve("authorized_keys");
      config = dir.resolve("sshd_config");
      for (String type : HOST_KEY_TYPES) {
        keygen(type, hostKeyFile(type), "");
      }
      Files.writeString(authorizedKeys, "");
      // Steps get their own TMPDIR (sshd SetEnv), so tests can check what a step left behind
      // without seeing other tests' or other programs' files.
      Files.createDirectories(remoteTmp());
      run(List.of("chmod", "755", dir.toString()), null);
      run(List.of("chmod", "1777", remoteTmp().toString()), null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Optional<Path> findSshd() {
    List<Path> candidates = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      for (String p : path.split(":")) {
        if (!p.isEmpty()) {
          candidates.add(Path.of(p, "sshd"));
        }
      }
    }
    for (String p : List.of("/usr/sbin", "/usr/local/sbin", "/sbin")) {
      candidates.add(Path.of(p, "sshd"));
    }
    return candidates.stream().filter(Files::isExecutable).findFirst().map(Path::toAbsolutePath);
  }

  static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  Path dir() {
    return dir;
  }

  /** The TMPDIR every login on this server gets. */
  Path remoteTmp() {
    return dir.resolve("remote-tmp");
  }

  int port() {
    return port;
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  /** The ed25519 host key's public line ({@code ssh-ed25519 AAAA... comment}). */
  String hostPublicKey() {
    return hostPublicKey("ed25519");
  }

  /** The public line of the host key of a type ({@code ed25519}, {@code ecdsa}, {@code rsa}). */
  String hostPublicKey(String type) {
    return read(Path.of(hostKeyFile(type) + ".pub")).trim();
  }

  /** {@code <key type> <base64>} of a host key, as a known-hosts line needs it. */
  String hostKeyTypeAndBase64(String type) {
    String[] parts = hostPublicKey(type).split(" ");
    return parts[0] + " " + parts[1];
  }

  /** The {@code SHA256:} fingerprint of a host key, as {@code ssh-keygen -l} prints it. */
  String hostFingerprint(String type) {
    return run(List.of("ssh-keygen", "-l", "-f", hostKeyFile(type) + ".pub"), null).split(" ")[1];
  }

  private Path hostKeyFile(String type) {
    return type.equals("ed25519") ? hostKey : dir.resolve("ssh_host_" + type + "_key");
  }

  /**
   * Makes the server present a host certificate for its ed25519 key, signed by a fresh CA for
   * principal 127.0.0.1 (call before {@link #start()}); returns the CA's public line.
   */
  String withHostCertificate() {
    hostCa = dir.resolve("host_ca");
    keygen("ed25519", hostCa, "");
    run(
        List.of(
            "ssh-keygen",
            "-q",
            "-s",
            hostCa.toString(),
            "-I",
            "workerpools-test-host",
            "-h",
            "-n",
            "127.0.0.1",
            "-V",
            "-5m:+1h",
            hostKey + ".pub"),
        null);
    hostCertificate = Path.of(hostKey + "-cert.pub");
    return read(Path.of(hostCa + ".pub")).trim();
  }

  /** A known-hosts file that trusts this server's host key. */
  Path knownHosts() {
    Path f = dir.resolve("known_hosts-" + UUID.randomUUID());
    String[] parts = hostPublicKey().split(" ");
    write(f, "[127.0.0.1]:" + port + " " + parts[0] + " " + parts[1] + "\n");
    return f;
  }

  /** Makes a client key pair; returns the private key file. */
  Path clientKey(String type, String passphrase, boolean authorize) {
    Path key = dir.resolve("client_" + type + "_" + UUID.randomUUID().toString().substring(0, 8));
    keygen(type, key, passphrase);
    if (authorize) {
      try {
        Files.writeString(authorizedKeys, read(Path.of(key + ".pub")), StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return key;
  }

  /** A local user with a known password (root only); removed by {@link #stop()}. */
  synchronized String[] passwordUser() {
    if (passwordUser == null) {
      if (!isRoot()) {
        throw new AssertionError(
            "password authentication against the real sshd needs a throwaway local user, which"
                + " only root can create; run the tests as root (as CI does)");
      }
      String user = "wpt" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
      String pw = "pw-" + UUID.randomUUID();
      run(List.of("useradd", "-M", "-d", dir.toString(), "-s", "/bin/bash", user), null);
      run(List.of("chpasswd"), user + ":" + pw + "\n");
      passwordUser = user;
      password = pw;
    }
    return new String[] {passwordUser, password};
  }

  void start() {
    try {
      ensurePrivsepDir();
      for (int attempt = 0; attempt < 5; attempt++) {
        if (port == 0 || attempt > 0) {
          port = freePort();
        }
        writeConfig();
        Path log = dir.resolve("sshd.log");
        process =
            new ProcessBuilder(sshd.toString(), "-D", "-e", "-f", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        if (awaitListening(Duration.ofSeconds(10))) {
          return;
        }
        kill();
      }
      throw new AssertionError("sshd did not start; its log:\n" + read(dir.resolve("sshd.log")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts again on the same port with the same host key. */
  void restart() {
    int p = port;
    try {
      Path log = dir.resolve("sshd.log");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline) {
        port = p;
        writeConfig();
        process =
            new ProcessBuilder(sshd.toString(), "-D", "-e", "-f", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        if (awaitListening(Duration.ofSeconds(5))) {
          return;
        }
        kill();
      }
      throw new AssertionError("sshd did not restart on port " + p + ":\n" + read(log));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SIGKILLs sshd and every process it started (its connections and their shells). */
  void kill() {
    if (process == null) {
      return;
    }
    List<ProcessHandle> all = new ArrayList<>();
    process.descendants().forEach(all::add);
    all.add(process.toHandle());
    all.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle h : all) {
      h.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> h).join();
    }
    process = null;
  }

  /** Freezes sshd and its children (a silent network: keep-alives go unanswered). */
  void freeze(boolean stop) {
    List<String> cmd = new ArrayList<>(List.of("kill", stop ? "-STOP" : "-CONT"));
    process.descendants().forEach(h -> cmd.add(Long.toString(h.pid())));
    cmd.add(Long.toString(process.pid()));
    run(cmd, null);
  }

  void stop() {
    kill();
    if (passwordUser != null) {
      run(List.of("userdel", passwordUser), null);
      passwordUser = null;
    }
    deleteTree(dir);
    // /run/sshd, if this made it, stays: an sshd of another test JVM on this machine may be using
    // it, and removing it under a running sshd makes its next connections fail at once.
  }

  private void ensurePrivsepDir() throws IOException {
    // OpenSSH refuses to start as root without its privilege separation directory, which a
    // container with a freshly installed openssh-server may lack.
    Path privsep = Path.of("/run/sshd");
    if (isRoot() && !Files.isDirectory(privsep)) {
      Files.createDirectories(privsep);
    }
  }

  private void writeConfig() {
    write(
        config,
        String.join(
            "\n",
            "Port " + port,
            "ListenAddress 127.0.0.1",
            "HostKey " + hostKeyFile("rsa"),
            "HostKey " + hostKeyFile("ecdsa"),
            "HostKey " + hostKey,
            hostCertificate == null ? "" : "HostCertificate " + hostCertificate,
            "AuthorizedKeysFile " + authorizedKeys,
            "PidFile " + dir.resolve("sshd.pid"),
            "StrictModes no",
            "UsePAM no",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "MaxSessions 10",
            "SetEnv TMPDIR=" + remoteTmp(),
            "MaxStartups 100",
            "LogLevel INFO",
            ""));
  }

  private boolean awaitListening(Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        return false;
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return true;
      } catch (IOException notYet) {
        process.toHandle().onExit().completeOnTimeout(null, 20, TimeUnit.MILLISECONDS).join();
      }
    }
    return false;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  private static void keygen(String type, Path file, String passphrase) {
    List<String> cmd = new ArrayList<>(List.of("ssh-keygen", "-q", "-t", type, "-N", passphrase));
    if (type.equals("rsa")) {
      cmd.addAll(List.of("-b", "2048"));
    }
    cmd.addAll(List.of("-C", "workerpools-test", "-f", file.toString()));
    run(cmd, null);
  }

  static String run(List<String> cmd, String stdin) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new AssertionError(cmd + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return "(cannot read " + p + ": " + e + ")";
    }
  }

  private static void write(Path p, String s) {
    try {
      Files.writeString(p, s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException ignored) {
                  // Best effort.
                }
              });
    } catch (IOException ignored) {
      // Best effort.
    }
  }
}
