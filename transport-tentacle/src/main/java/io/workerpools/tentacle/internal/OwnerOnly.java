package io.workerpools.tentacle.internal;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Files and directories the agent creates are its owner's only: directories 0700, files 0600
 * (whatever the process umask), as on the built-in worker. On a file system without POSIX
 * permissions the calls fall back to plain creation.
 */
public final class OwnerOnly {
  private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
  private static final boolean POSIX =
      java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

  private OwnerOnly() {}

  /** The attribute for a new owner-only file (for {@code Files.createTempFile} and the like). */
  public static FileAttribute<?>[] fileAttributes() {
    return POSIX
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE)}
        : new FileAttribute<?>[0];
  }

  /**
   * Creates {@code dir} and its missing parents 0700; an existing {@code dir} is narrowed to 0700
   * (existing parents are left as they are).
   */
  public static Path createDirectories(Path dir) throws IOException {
    Path abs = dir.toAbsolutePath();
    if (Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS)) {
      narrow(abs, DIR);
      return dir;
    }
    Path parent = abs.getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      createDirectories(parent);
    }
    try {
      if (POSIX) {
        Files.createDirectory(abs, PosixFilePermissions.asFileAttribute(DIR));
        narrow(abs, DIR); // the umask may have narrowed the attribute; never widened
      } else {
        Files.createDirectory(abs);
      }
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(abs)) {
        throw e;
      }
    }
    return dir;
  }

  /** Writes {@code content} to {@code file} (created 0600, or narrowed to 0600, then truncated). */
  public static void write(Path file, byte[] content) throws IOException {
    create(file);
    Files.write(file, content, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
  }

  /** Creates {@code file} 0600 if it does not exist, or narrows it to 0600. */
  public static void create(Path file) throws IOException {
    try {
      Files.createFile(file, fileAttributes());
    } catch (FileAlreadyExistsException e) {
      narrow(file, FILE);
    }
  }

  private static void narrow(Path p, Set<PosixFilePermission> perms) throws IOException {
    if (POSIX) {
      Files.setPosixFilePermissions(p, perms);
    }
  }
}
