package io.workerpools.local.internal;

import io.workerpools.local.UnsafeDirectoryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where scripts run: a base directory checked to be safe from other local users, one fresh
 * directory per step under it, files written without following symbolic links, and removal that
 * never leaves the step's directory.
 *
 * <p>A base is safe when it is a real directory (not a symbolic link) owned by this process's user
 * and not writable by group or others, and when every directory above it is owned by root or this
 * user and not writable by group or others unless sticky (as {@code /tmp} is: there, others cannot
 * rename or remove what this user made). A missing base is created with mode 0700. Under a safe
 * base nobody else can rename, replace or add a step directory, so paths below it can be trusted
 * between writing a script and running it.
 */
public final class WorkingDirectories {
  private static final Logger LOG = LoggerFactory.getLogger(WorkingDirectories.class);
  private static final FileAttribute<Set<PosixFilePermission>> DIR_0700 =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
  private static final FileAttribute<Set<PosixFilePermission>> FILE_0600 =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final Set<PosixFilePermission> WRITABLE_BY_OTHERS =
      EnumSet.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);
  private static final int MAX_DEPTH = 256;

  private final Path base;
  private volatile Path checked; // the base's real path, once checked

  public WorkingDirectories(Path base) {
    this.base = base.toAbsolutePath().normalize();
  }

  public Path base() {
    return base;
  }

  /**
   * Checks the base (creating it with mode 0700 if missing), once; again when {@code force} (it was
   * removed since).
   *
   * @throws UnsafeDirectoryException if the base or a directory above it is unsafe
   */
  public Path ensureBase(boolean force) throws IOException {
    Path real = checked;
    if (force || real == null) {
      real = checkOrCreate(base);
      checked = real;
    }
    return real;
  }

  /** A new step directory (mode 0700, unguessable name) under the checked base. */
  public Path newStepDirectory() throws IOException {
    try {
      return mkdirRandom(ensureBase(false));
    } catch (NoSuchFileException e) {
      // someone removed the base directory: make (and check) it again
      return mkdirRandom(ensureBase(true));
    }
  }

  private static Path mkdirRandom(Path base) throws IOException {
    for (int attempt = 0; ; attempt++) {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      Path dir =
          base.resolve(
              "step-"
                  + Long.toHexString(r.nextLong() >>> 1)
                  + Long.toHexString(r.nextLong() >>> 1));
      try {
        return Files.createDirectory(dir, DIR_0700);
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 10) {
          throw e; // a name someone made first is skipped, never reused
        }
      } catch (UnsupportedOperationException e) {
        return Files.createDirectory(dir); // not a POSIX file system
      }
    }
  }

  /**
   * Checks {@code dir} as a base (see the class comment), creating it with mode 0700 if it is
   * missing; returns its real path (links above it resolved), the one to use from now on: a link
   * above it could be changed later by whoever owns the directory holding the link.
   */
  public static Path checkOrCreate(Path dir) throws IOException {
    Path abs = dir.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    if (parent == null) {
      throw unsafe(abs, "is the root directory", "configure a directory of its own");
    }
    if (Files.notExists(parent, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(parent, DIR_0700);
    }
    Path realParent = parent.toRealPath();
    checkAncestors(abs, realParent);
    Path target = realParent.resolve(abs.getFileName());
    try {
      Files.createDirectory(target, DIR_0700);
    } catch (FileAlreadyExistsException e) {
      // checked below, as if it had been there before
    } catch (UnsupportedOperationException e) {
      Files.createDirectories(target); // not a POSIX file system: nothing to check
      return target;
    }
    checkOwnDirectory(abs, target);
    return target;
  }

  private static void checkAncestors(Path configured, Path realParent) throws IOException {
    int me = currentUid();
    for (Path p = realParent; p != null; p = p.getParent()) {
      PosixFileAttributes a = posix(p);
      if (a == null) {
        return;
      }
      int owner = uid(p);
      boolean sticky = (mode(p) & 01000) != 0;
      if (owner != 0 && owner != me) {
        throw unsafe(
            configured,
            "lies under " + p + ", which belongs to another user (uid " + owner + ")",
            "configure a base directory under a directory owned by root or by this user");
      }
      if (!sticky && hasAny(a.permissions(), WRITABLE_BY_OTHERS)) {
        throw unsafe(
            configured,
            "lies under " + p + ", which other users can write to (mode " + perms(a) + ")",
            "run 'chmod go-w " + p + "' or configure a base directory elsewhere");
      }
    }
  }

  private static void checkOwnDirectory(Path configured, Path target) throws IOException {
    BasicFileAttributes b =
        Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (b.isSymbolicLink()) {
      throw unsafe(
          configured,
          "is a symbolic link (to " + Files.readSymbolicLink(target) + ")",
          "remove the link ('rm " + target + "') so that it is created afresh");
    }
    if (!b.isDirectory()) {
      throw unsafe(configured, "is not a directory", "remove it or configure another directory");
    }
    PosixFileAttributes a = posix(target);
    if (a == null) {
      return;
    }
    int owner = uid(target);
    int me = currentUid();
    if (owner != me) {
      throw unsafe(
          configured,
          "belongs to another user (uid " + owner + ", not " + me + ")",
          "remove it ('rm -rf "
              + target
              + "') so that it is created afresh, or configure"
              + " another base directory with LocalProcessTransport.builder().baseDirectory(...)");
    }
    if (hasAny(a.permissions(), WRITABLE_BY_OTHERS)) {
      throw unsafe(
          configured,
          "can be written by other users (mode " + perms(a) + ")",
          "run 'chmod 700 "
              + target
              + "' (or 'chmod go-w'), or remove it so that it is created"
              + " afresh with mode 700");
    }
  }

  private static UnsafeDirectoryException unsafe(Path dir, String what, String fix) {
    return new UnsafeDirectoryException(
        dir,
        "the built-in worker's base directory "
            + dir
            + " "
            + what
            + ": another local user could replace the scripts run there; "
            + fix);
  }

  private static boolean hasAny(Set<PosixFilePermission> have, Set<PosixFilePermission> any) {
    for (PosixFilePermission p : any) {
      if (have.contains(p)) {
        return true;
      }
    }
    return false;
  }

  private static String perms(PosixFileAttributes a) {
    return PosixFilePermissions.toString(a.permissions());
  }

  private static PosixFileAttributes posix(Path p) throws IOException {
    PosixFileAttributeView v =
        Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    return v == null ? null : v.readAttributes();
  }

  private static int uid(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
  }

  private static int mode(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
  }

  /** This process's user id. */
  public static int currentUid() throws IOException {
    return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
  }

  // ---- files in a step directory ----

  /** Writes a new file (mode 0600), failing if anything (a link included) is there already. */
  public static void writeNew(Path file, byte[] content) throws IOException {
    try (SeekableByteChannel c =
        Files.newByteChannel(
            file,
            Set.<OpenOption>of(
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
            FILE_0600)) {
      ByteBuffer b = ByteBuffer.wrap(content);
      while (b.hasRemaining()) {
        c.write(b);
      }
    }
  }

  /**
   * Creates the directories between {@code root} and {@code dir} (mode 0700), refusing any that
   * exists but is not a real directory.
   */
  public static void createDirectoriesUnder(Path root, Path dir) throws IOException {
    Path rel = root.relativize(dir);
    Path p = root;
    for (Path part : rel) {
      p = p.resolve(part);
      try {
        Files.createDirectory(p, DIR_0700);
      } catch (FileAlreadyExistsException e) {
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          throw new IOException(p + " exists and is not a directory");
        }
      }
    }
  }

  /** Gives everything under (and including) {@code dir} to {@code owner}, never through a link. */
  public static void chownTree(Path dir, UserPrincipal owner) throws IOException {
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs)
              throws IOException {
            lchown(d, owner);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
            lchown(f, owner);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  /** {@code lchown}: changes the owner of {@code p} itself, a link included, never its target. */
  public static void lchown(Path p, UserPrincipal owner) throws IOException {
    Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
        .setOwner(owner);
  }

  // ---- removal ----

  /**
   * Removes {@code dir} and everything in it, never following a link out of it, even if the
   * script's user swaps a directory for a link meanwhile (each directory is opened relative to its
   * parent's open handle, without following links). Logs and gives up on what it cannot remove.
   */
  public static void deleteTree(Path dir) {
    Path parent = dir.getParent();
    try (DirectoryStream<Path> ps = Files.newDirectoryStream(parent)) {
      if (ps instanceof SecureDirectoryStream<Path> sp) {
        deleteIn(sp, dir.getFileName(), 0);
        return;
      }
    } catch (NoSuchFileException e) {
      return;
    } catch (IOException e) {
      LOG.warn("could not remove the working directory {}: {}", dir, e.toString());
      return;
    }
    deleteByPath(dir);
  }

  private static void deleteIn(SecureDirectoryStream<Path> parent, Path name, int depth)
      throws IOException {
    BasicFileAttributes a;
    try {
      a =
          parent
              .getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
              .readAttributes();
    } catch (NoSuchFileException e) {
      return;
    }
    if (a.isDirectory()) {
      if (depth >= MAX_DEPTH) {
        throw new IOException("directories nested deeper than " + MAX_DEPTH);
      }
      try (SecureDirectoryStream<Path> child =
          parent.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
        for (Path e : child) {
          deleteIn(child, e.getFileName(), depth + 1);
        }
      }
      parent.deleteDirectory(name);
    } else {
      try {
        parent.deleteFile(name);
      } catch (NoSuchFileException e) {
        // gone already
      }
    }
  }

  private static void deleteByPath(Path dir) {
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      LOG.warn("could not remove the working directory {}: {}", dir, e.toString());
    }
  }
}
