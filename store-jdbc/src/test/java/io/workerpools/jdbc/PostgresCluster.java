package io.workerpools.jdbc;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A throwaway PostgreSQL cluster for tests (and, through this module's test-jar, the JDBC
 * benchmarks): {@code initdb} into a temporary directory, {@code pg_ctl} on a free port on
 * 127.0.0.1 with its unix socket in that directory, trust authentication (it listens on loopback
 * only and lives for one test run). PostgreSQL refuses to run as root, so as root the server
 * commands run as the {@code postgres} system user (through {@code runuser}).
 *
 * <p>The server binaries are looked up in {@code $WP_PG_BIN}, then {@code
 * /usr/lib/postgresql/<newest>/bin}. If they are missing the test fails saying how to install them.
 */
public final class PostgresCluster implements AutoCloseable {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static PostgresCluster shared;

  private final Path bin;
  private final Path dir;
  private final Path data;
  private int port; // guarded by this after construction
  private final boolean asPostgresUser;
  private boolean running;

  private PostgresCluster() throws IOException, InterruptedException {
    this.bin = findBinaries();
    this.asPostgresUser = "root".equals(System.getProperty("user.name"));
    this.dir = Files.createTempDirectory("wp-pg-");
    this.data = dir.resolve("data");
    if (asPostgresUser) {
      UserPrincipal pg =
          dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
      Files.setOwner(dir, pg);
    }
    this.port = freePort();
    run(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            data.toString(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync"),
        120);
    startOnAFreePort();
  }

  /**
   * A port nobody listens on now. The server binds it a moment later, so another process (a client
   * socket given the same ephemeral port, a parallel test run) may take it first: {@link
   * #startOnAFreePort} then tries another.
   */
  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private void startOnAFreePort() throws IOException, InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        start();
        return;
      } catch (IllegalStateException e) {
        String why = String.valueOf(e.getMessage());
        if (attempt >= 8 || !why.contains("Address already in use")) {
          throw e;
        }
        synchronized (this) {
          port = freePort();
        }
      }
    }
  }

  /** A cluster started now; close it to stop it and delete its files. */
  public static PostgresCluster startNew() throws Exception {
    return new PostgresCluster();
  }

  /** The cluster shared by this test JVM: started on first use, stopped when the JVM exits. */
  public static synchronized PostgresCluster shared() {
    if (shared == null) {
      try {
        shared = new PostgresCluster();
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("cannot start the test PostgreSQL cluster: " + e, e);
      }
      PostgresCluster c = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(c::close, "stop-test-postgres"));
    }
    return shared;
  }

  private static Path findBinaries() {
    String env = System.getenv("WP_PG_BIN");
    if (env != null && Files.isExecutable(Path.of(env, "initdb"))) {
      return Path.of(env);
    }
    Path root = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(root)) {
      try (Stream<Path> versions = Files.list(root)) {
        var found =
            versions
                .filter(p -> Files.isExecutable(p.resolve("bin/initdb")))
                .max(
                    Comparator.comparingInt(
                        p -> {
                          try {
                            return Integer.parseInt(p.getFileName().toString().split("\\.")[0]);
                          } catch (NumberFormatException e) {
                            return 0;
                          }
                        }));
        if (found.isPresent()) {
          return found.get().resolve("bin");
        }
      } catch (IOException ignored) {
        // fall through to the failure below
      }
    }
    throw new AssertionError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/<version>/bin"
            + " nor in $WP_PG_BIN. The JDBC store tests need a real PostgreSQL server: install it"
            + " with 'sudo apt-get install postgresql' (Debian/Ubuntu), or point WP_PG_BIN at the"
            + " directory holding initdb and pg_ctl.");
  }

  /** Starts the server (again, after {@link #stop}) on the same port and data directory. */
  public synchronized void start() throws IOException, InterruptedException {
    String opts =
        "-c listen_addresses=127.0.0.1 -p "
            + port
            + " -c unix_socket_directories="
            + dir
            + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            + " -c max_connections=200";
    run(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            data.toString(),
            "-l",
            dir.resolve("server.log").toString(),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start"),
        90);
    running = true;
  }

  /** Stops the server (fast shutdown: open connections are cut). */
  public synchronized void stop() throws IOException, InterruptedException {
    if (running) {
      run(
          List.of(
              bin.resolve("pg_ctl").toString(),
              "-D",
              data.toString(),
              "-m",
              "fast",
              "-w",
              "-t",
              "60",
              "stop"),
          90);
      running = false;
    }
  }

  public int port() {
    return port;
  }

  /** The JDBC URL of a database on this cluster. */
  public String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** Creates a fresh, empty database and returns its name. */
  public String createDatabase() {
    String name = "wp_test_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    try (Connection c = dataSource("postgres").getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + ": " + e, e);
    }
    return name;
  }

  /** A non-pooling data source for a database on this cluster, short timeouts. */
  public DataSource dataSource(String database) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setServerNames(new String[] {"127.0.0.1"});
    ds.setPortNumbers(new int[] {port});
    ds.setDatabaseName(database);
    ds.setUser("postgres");
    ds.setConnectTimeout(5);
    ds.setSocketTimeout(30);
    return ds;
  }

  /** Runs one SQL statement on a database of this cluster (set-up for tests and benchmarks). */
  public void execute(String database, String sql) {
    try (Connection c = dataSource(database).getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot run on " + database + ": " + sql + ": " + e, e);
    }
  }

  private void run(List<String> command, int timeoutSeconds)
      throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    if (asPostgresUser) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(command);
    Path out = Files.createTempFile("wp-pg-cmd-", ".log");
    try {
      Process p =
          new ProcessBuilder(full)
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out after " + timeoutSeconds + " s: " + full);
      }
      if (p.exitValue() != 0) {
        String log = "";
        Path serverLog = dir.resolve("server.log");
        if (Files.exists(serverLog)) {
          log = "\nserver.log:\n" + Files.readString(serverLog, StandardCharsets.UTF_8);
        }
        throw new IllegalStateException(
            "command failed (exit "
                + p.exitValue()
                + "): "
                + full
                + "\n"
                + Files.readString(out, StandardCharsets.UTF_8)
                + log);
      }
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** Stops the server (immediately) and deletes its files. */
  @Override
  public synchronized void close() {
    try {
      if (running) {
        run(
            List.of(
                bin.resolve("pg_ctl").toString(),
                "-D",
                data.toString(),
                "-m",
                "immediate",
                "-w",
                "stop"),
            60);
        running = false;
      }
    } catch (Exception e) {
      System.err.println("could not stop the test PostgreSQL cluster: " + e);
    } finally {
      deleteTree(dir);
      synchronized (PostgresCluster.class) {
        if (shared == this) {
          shared = null;
        }
      }
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> all = Files.walk(root)) {
      all.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException ignored) {
                  // best effort: a temp directory
                }
              });
    } catch (IOException ignored) {
      // already gone
    }
  }
}
