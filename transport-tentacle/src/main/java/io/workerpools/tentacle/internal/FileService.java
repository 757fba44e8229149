package io.workerpools.tentacle.internal;

import io.workerpools.WorkerPoolsException;
import io.workerpools.tentacle.internal.Messages.FileInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * File upload and download on the agent, confined to its files directory: relative paths only, no
 * {@code ..} segment, and the resolved path must stay inside the directory (absolute paths are
 * refused unless they point inside it). Content travels as chunk frames after the announcing
 * message.
 */
public final class FileService {
  /** The size of a chunk frame. */
  public static final int CHUNK = 64 * 1024;

  private final Path root;
  private final long reserveBytes;

  /**
   * @param root the directory files live in
   * @param reserveBytes free space to keep after an upload
   */
  public FileService(Path root, long reserveBytes) {
    this.root = root.toAbsolutePath().normalize();
    this.reserveBytes = reserveBytes;
    try {
      OwnerOnly.createDirectories(this.root);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot create " + root, e);
    }
  }

  /** Refuses paths with {@code ..} segments, empty paths and absolute paths. */
  public static void checkRelative(String path) {
    if (path == null || path.isBlank()) {
      throw new IllegalArgumentException("the path must not be empty");
    }
    if (path.startsWith("/") || path.startsWith("\\") || path.matches("^[A-Za-z]:.*")) {
      throw new IllegalArgumentException(
          "path '" + path + "' is absolute; give a path relative to the agent's files directory");
    }
    for (String seg : path.split("[/\\\\]")) {
      if (seg.equals("..")) {
        throw new IllegalArgumentException(
            "path '"
                + path
                + "' contains '..'; paths must stay inside the agent's files directory");
      }
    }
  }

  /** Resolves {@code path} inside {@code dir}, refusing anything that would leave it. */
  public static Path confine(Path dir, String path) {
    Path base = dir.toAbsolutePath().normalize();
    Path target;
    if (path != null && path.startsWith("/") && Path.of(path).normalize().startsWith(base)) {
      target = Path.of(path).normalize();
    } else {
      checkRelative(path);
      target = base.resolve(path).normalize();
    }
    if (!target.startsWith(base) || target.equals(base)) {
      throw new IllegalArgumentException(
          "path '" + path + "' resolves outside the agent's files directory");
    }
    return target;
  }

  /**
   * Refuses a path whose nearest existing ancestor (or itself, with {@code includeTarget}) is a
   * symbolic link, or lies under one, that leads out of the files directory: lexical confinement
   * alone would let {@code link/x} write through {@code link -> /elsewhere}.
   */
  private void checkNoLinkOut(Path target, String path, boolean includeTarget) {
    try {
      Path realRoot = root.toRealPath();
      Path probe = includeTarget ? target : target.getParent();
      while (probe != null && !Files.exists(probe)) {
        probe = probe.getParent();
      }
      if (probe != null && !probe.toRealPath().startsWith(realRoot)) {
        throw new IllegalArgumentException(
            "path '"
                + path
                + "' resolves outside the agent's files directory through a symbolic link;"
                + " give a path whose directories are inside it");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot check path '" + path + "' against the files directory: " + e.getMessage(), e);
    }
  }

  /** Reads an upload's chunks from {@code in} into its place; checks length and SHA-256. */
  public FileInfo receive(Messages.Upload u, FrameSource in) throws IOException {
    Path target;
    IllegalArgumentException refused = null;
    target = null;
    try {
      target = confine(root, u.path());
      checkNoLinkOut(target, u.path(), false);
      if (u.length() < 0) {
        throw new IllegalArgumentException("length must not be negative but was " + u.length());
      }
      long free = Files.getFileStore(root).getUsableSpace();
      if (free - u.length() < reserveBytes) {
        throw new IllegalArgumentException(
            "not enough free space for '"
                + u.path()
                + "': "
                + u.length()
                + " bytes needed, "
                + free
                + " free, and "
                + reserveBytes
                + " must stay free");
      }
    } catch (IllegalArgumentException e) {
      refused = e;
    }
    MessageDigest sha = sha256();
    long total = 0;
    Path tmp = null;
    boolean moved = false;
    try {
      OutputStream out = null;
      try {
        if (refused == null) {
          OwnerOnly.createDirectories(target.getParent());
          tmp =
              Files.createTempFile(
                  target.getParent(), ".upload-", ".tmp", OwnerOnly.fileAttributes());
          out = Files.newOutputStream(tmp);
        }
        while (true) {
          byte[] chunk = in.next();
          if (chunk == null) {
            throw new ProtocolViolationException("the connection closed inside an upload", true);
          }
          if (chunk.length == 0) {
            break;
          }
          total += chunk.length;
          if (total > Math.max(0, u.length())) {
            // Never more than declared (the free-space check used the declared length); the
            // rest of the stream is unknown, so the connection ends here.
            throw new ProtocolViolationException(
                "upload of '"
                    + u.path()
                    + "' is longer than its declared "
                    + u.length()
                    + " bytes; the upload is discarded",
                true);
          }
          if (out != null) {
            sha.update(chunk);
            out.write(chunk);
          }
        }
      } finally {
        if (out != null) {
          out.close();
        }
      }
      if (refused != null) {
        throw refused;
      }
      String digest = HexFormat.of().withUpperCase().formatHex(sha.digest());
      if (total != u.length() || !digest.equalsIgnoreCase(u.sha256())) {
        throw new IllegalArgumentException(
            "upload of '"
                + u.path()
                + "' arrived damaged: expected "
                + u.length()
                + " bytes with SHA-256 "
                + u.sha256()
                + " but got "
                + total
                + " bytes with SHA-256 "
                + digest);
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      moved = true;
      return new FileInfo(target.toString(), total, digest);
    } finally {
      if (tmp != null && !moved) {
        Files.deleteIfExists(tmp); // whatever went wrong: no .upload-*.tmp is left behind
      }
    }
  }

  /** Describes a file to download (after confinement). */
  public FileInfo describe(Messages.Download d) throws IOException {
    Path p = confine(root, d.path());
    checkNoLinkOut(p, d.path(), true);
    if (!Files.isRegularFile(p)) {
      throw new IllegalArgumentException(
          "no file '" + d.path() + "' in the agent's files directory");
    }
    MessageDigest sha = sha256();
    try (InputStream in = Files.newInputStream(p)) {
      byte[] buf = new byte[CHUNK];
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
      }
    }
    return new FileInfo(
        p.toString(), Files.size(p), HexFormat.of().withUpperCase().formatHex(sha.digest()));
  }

  /** Streams a described file as chunk frames, then an empty frame. */
  public void send(FileInfo info, OutputStream out) throws IOException {
    try (InputStream in = Files.newInputStream(Path.of(info.fullPath()))) {
      byte[] buf = new byte[CHUNK];
      int n;
      while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
        Frames.write(out, buf, 0, n);
      }
    }
    Frames.write(out, new byte[0]);
  }

  /** A SHA-256 digest. */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new WorkerPoolsException("SHA-256 is not available", e);
    }
  }

  /** The root, for capabilities. */
  public Path root() {
    return root;
  }

  /** Where chunk frames come from. */
  @FunctionalInterface
  public interface FrameSource {
    /** The next frame, or null at end of stream. */
    byte[] next() throws IOException;
  }

  static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }
}
