package io.workerpools.tentacle;

import io.workerpools.ConfigurationException;
import io.workerpools.tentacle.internal.OwnerOnly;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The host thumbprints an agent trusts, stored in its home: {@code HOME/trusted-hosts}, one
 * thumbprint (64 hex digits, lower case) a line, {@code #} comments and blank lines allowed. This
 * is what {@code configure --trust/--remove-trust} edits; a running {@link TentacleAgent} applies
 * every change without a restart: its next handshake uses the new set, and a removed thumbprint's
 * open connections (listening and polling) are cut within about a second.
 *
 * <p>Security: the home is created (or narrowed to) {@code rwx------}; the file is written {@code
 * rw-------} through a temporary file in the same directory and an atomic rename (a reader sees the
 * old set or the new one, never half a file; a crash leaves the old file); a symbolic link in the
 * file's place is never followed: reading refuses it, writing replaces the link itself. Writers
 * (several {@code configure} processes at once) serialise on {@code HOME/trusted-hosts.lock}. A
 * file that group or others may write is refused. Reading validates every line: an error names the
 * file and the line and says how to fix it.
 *
 * <p>Precedence: the agent trusts the union of this stored set and the thumbprints given to {@link
 * TentacleAgent.Builder#trust} (the start flag {@code --trust}). A flag's thumbprint lasts for that
 * run only and is never written here; removing a thumbprint here does not take away one given by
 * flag (restart without the flag for that).
 *
 * <p>Instances are cheap and stateless (each call reads the file); thread-safe, and safe across
 * processes.
 */
public final class AgentTrust {
  /** The file's name inside the agent's home. */
  public static final String FILE_NAME = "trusted-hosts";

  /** The most thumbprints the file may hold. */
  public static final int MAX_THUMBPRINTS = 10_000;

  /** The largest file read (about 100 bytes a line at the maximum number of thumbprints). */
  public static final int MAX_FILE_BYTES = 1024 * 1024;

  private static final String HEADER =
      "# Host certificate thumbprints this WorkerPools agent trusts (one a line).\n"
          + "# Edit with: workerpools-agent configure --trust/--remove-trust THUMBPRINT\n";

  private static final Object JVM_LOCK = new Object();

  private final Path home;
  private final Path file;

  private AgentTrust(Path home) {
    this.home = Objects.requireNonNull(home, "home").toAbsolutePath();
    this.file = this.home.resolve(FILE_NAME);
  }

  /** The stored trust of the agent whose home is {@code home} (nothing is read or created yet). */
  public static AgentTrust of(Path home) {
    return new AgentTrust(home);
  }

  /** The trust file: {@code HOME/trusted-hosts}. */
  public Path file() {
    return file;
  }

  /**
   * The stored thumbprints, sorted; empty if the file does not exist.
   *
   * @throws ConfigurationException (field {@code trust}) naming the file, and the line if one is
   *     invalid, when the file cannot be read, is a symbolic link, is writable by group or others,
   *     is too large, or holds a line that is not a thumbprint
   */
  public Set<String> thumbprints() {
    return Set.copyOf(read());
  }

  /**
   * Adds a thumbprint to the stored set (64 hex digits, any case; stored upper case).
   *
   * @return true if it was added, false if it was already there
   * @throws ConfigurationException if the thumbprint is malformed or the file cannot be read or
   *     written
   */
  public boolean add(String thumbprint) {
    String t = TentacleCertificate.normalizeThumbprint("trust", thumbprint);
    return update(t, true);
  }

  /**
   * Removes a thumbprint from the stored set. A running agent cuts that host's open connections.
   *
   * @return true if it was removed, false if it was not stored
   * @throws ConfigurationException if the thumbprint is malformed or the file cannot be read or
   *     written
   */
  public boolean remove(String thumbprint) {
    String t = TentacleCertificate.normalizeThumbprint("trust", thumbprint);
    return update(t, false);
  }

  private boolean update(String thumbprint, boolean add) {
    // A file lock is held per process: threads of one JVM take this lock first.
    synchronized (JVM_LOCK) {
      return updateLocked(thumbprint, add);
    }
  }

  private boolean updateLocked(String thumbprint, boolean add) {
    try {
      OwnerOnly.createDirectories(home);
      Path lockFile = home.resolve(FILE_NAME + ".lock");
      try (FileChannel lockChannel =
              FileChannel.open(
                  lockFile,
                  Set.<java.nio.file.OpenOption>of(
                      StandardOpenOption.CREATE,
                      StandardOpenOption.WRITE,
                      LinkOption.NOFOLLOW_LINKS),
                  OwnerOnly.fileAttributes());
          FileLock lock = lockChannel.lock()) {
        TreeSet<String> set = read();
        boolean changed = add ? set.add(thumbprint) : set.remove(thumbprint);
        if (changed) {
          if (set.size() > MAX_THUMBPRINTS) {
            throw new ConfigurationException(
                "trust", file + " already holds the most thumbprints allowed, " + MAX_THUMBPRINTS);
          }
          write(set);
        }
        return changed;
      }
    } catch (IOException e) {
      throw new ConfigurationException(
          "trust", "cannot update the agent's trust file " + file + ": " + e, e);
    }
  }

  private void write(Set<String> set) throws IOException {
    StringBuilder b = new StringBuilder(HEADER);
    for (String t : set) {
      b.append(t).append('\n');
    }
    // A fresh name, created exclusively (O_EXCL never follows a link), in the same directory.
    Path tmp = home.resolve("." + FILE_NAME + "." + UUID.randomUUID() + ".tmp");
    try {
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
              OwnerOnly.fileAttributes())) {
        ch.write(java.nio.ByteBuffer.wrap(b.toString().getBytes(StandardCharsets.US_ASCII)));
        ch.force(true);
      }
      try {
        // rename(2) replaces a link in the file's place; it never writes through it.
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the file system of " + home + " cannot rename atomically", e);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
    try (FileChannel dir = FileChannel.open(home, StandardOpenOption.READ)) {
      dir.force(true); // the rename itself survives a crash
    } catch (IOException e) {
      // not every file system lets a directory be synced; the rename is atomic anyway
    }
  }

  private TreeSet<String> read() {
    byte[] bytes;
    try {
      BasicFileAttributes attrs;
      try {
        attrs = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        return new TreeSet<>();
      }
      if (attrs.isSymbolicLink()) {
        throw problem("is a symbolic link; the agent never follows one: delete it");
      }
      if (!attrs.isRegularFile()) {
        throw problem("is not a regular file: delete it");
      }
      if (supportsPosix()) {
        Set<PosixFilePermission> perms =
            Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .permissions();
        if (perms.contains(PosixFilePermission.GROUP_WRITE)
            || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
          throw problem("may be written by group or others: run chmod 600 " + file);
        }
      }
      // O_NOFOLLOW: a link swapped in after the check above is refused too.
      try (FileChannel ch =
              FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
          InputStream in = Channels.newInputStream(ch)) {
        bytes = readBounded(in);
      }
    } catch (NoSuchFileException e) {
      return new TreeSet<>();
    } catch (IOException e) {
      throw new ConfigurationException("trust", "cannot read " + file + ": " + e, e);
    }
    String text;
    try {
      text =
          StandardCharsets.US_ASCII
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(java.nio.ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw problem("is not ASCII text: it should hold one thumbprint (64 hex digits) a line");
    }
    return parse(text);
  }

  private TreeSet<String> parse(String text) {
    TreeSet<String> set = new TreeSet<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (!line.matches("[0-9A-Fa-f]{64}")) {
        String shown = line.length() > 80 ? line.substring(0, 80) + "..." : line;
        throw new ConfigurationException(
            "trust",
            file
                + " line "
                + (i + 1)
                + ": '"
                + shown.replaceAll("[^\\x20-\\x7e]", "?")
                + "' is not a thumbprint (64 hex digits); fix or delete the line, or edit the"
                + " file with configure --trust/--remove-trust");
      }
      set.add(line.toUpperCase(java.util.Locale.ROOT));
      if (set.size() > MAX_THUMBPRINTS) {
        throw problem("holds more than " + MAX_THUMBPRINTS + " thumbprints");
      }
    }
    return set;
  }

  private byte[] readBounded(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    int n;
    while ((n = in.read(buf)) >= 0) {
      out.write(buf, 0, n);
      if (out.size() > MAX_FILE_BYTES) {
        throw problem("is larger than " + MAX_FILE_BYTES + " bytes");
      }
    }
    return out.toByteArray();
  }

  private ConfigurationException problem(String what) {
    return new ConfigurationException("trust", "the agent's trust file " + file + " " + what);
  }

  private static boolean supportsPosix() {
    return java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }
}
