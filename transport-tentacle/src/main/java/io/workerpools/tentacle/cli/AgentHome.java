package io.workerpools.tentacle.cli;

import io.workerpools.ConfigurationException;
import io.workerpools.tentacle.internal.OwnerOnly;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * The agent's home: its certificate, trusted hosts, config file, workspaces and files. Given with
 * {@code --home}, else {@code $WORKERPOOLS_AGENT_HOME}, else the platform's place for a service's
 * state: {@code /var/lib/workerpools-agent} for root, {@code $XDG_DATA_HOME/workerpools-agent}
 * (default {@code ~/.local/share/workerpools-agent}) for anyone else. Never the current directory.
 *
 * <p>A home is created {@code rwx------}. An existing one must be a real directory (not a symbolic
 * link) owned by this user and not writable by group or others, and no directory above it may be
 * writable by others unless sticky (as {@code /tmp} is): otherwise another local user could swap
 * the certificate or the trusted hosts.
 */
public final class AgentHome {
  /** The environment variable that names the home when {@code --home} is not given. */
  public static final String ENV = "WORKERPOOLS_AGENT_HOME";

  /** The directory name under the platform's data directories. */
  public static final String NAME = "workerpools-agent";

  private AgentHome() {}

  /**
   * The default home for a user: pure, for tests.
   *
   * @param uid the user id (0: root)
   * @param env the environment ({@code WORKERPOOLS_AGENT_HOME}, {@code XDG_DATA_HOME})
   * @param userHome the user's home directory, or null if unknown
   * @throws ConfigurationException (field {@code --home}) when there is no sound default
   */
  static Path defaultHome(int uid, Map<String, String> env, String userHome) {
    String explicit = env.get(ENV);
    if (explicit != null && !explicit.isBlank()) {
      return absolute(explicit, ENV);
    }
    if (uid == 0) {
      return Path.of("/var/lib", NAME);
    }
    String xdg = env.get("XDG_DATA_HOME");
    // The XDG spec: a relative XDG_DATA_HOME is invalid and ignored.
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, NAME);
    }
    if (userHome == null || userHome.isBlank() || !Path.of(userHome).isAbsolute()) {
      throw new ConfigurationException(
          "--home",
          "this user has no home directory to keep the agent's state in: give --home DIR");
    }
    return Path.of(userHome, ".local", "share", NAME);
  }

  private static Path absolute(String dir, String where) {
    Path p = Path.of(dir);
    if (!p.isAbsolute()) {
      throw new ConfigurationException(
          where, "'" + dir + "' is relative: give an absolute directory for the agent's home");
    }
    return p.normalize();
  }

  /** The home named on the command line, or the default. */
  static Path resolve(Path flag) throws IOException {
    if (flag != null) {
      return flag.toAbsolutePath().normalize();
    }
    return defaultHome(currentUid(), System.getenv(), System.getProperty("user.home"));
  }

  /**
   * Checks an existing home, or creates a missing one {@code rwx------} (and its missing parents).
   *
   * @throws ConfigurationException (field {@code home}) naming the directory and the fix
   */
  static Path prepare(Path home) {
    try {
      check(home, true);
      return home;
    } catch (IOException e) {
      throw new ConfigurationException(
          "home", "cannot create the agent's home " + home + ": " + e, e);
    }
  }

  /**
   * Checks an existing home without creating anything; true if it exists.
   *
   * @throws ConfigurationException (field {@code home}) if it exists and is unsafe
   */
  static boolean checkExisting(Path home) {
    try {
      return check(home, false);
    } catch (IOException e) {
      throw new ConfigurationException(
          "home", "cannot read the agent's home " + home + ": " + e, e);
    }
  }

  private static boolean check(Path home, boolean create) throws IOException {
    if (Files.notExists(home, LinkOption.NOFOLLOW_LINKS)) {
      if (!create) {
        return false;
      }
      checkAncestors(home, home.getParent());
      OwnerOnly.createDirectories(home);
      return true;
    }
    BasicFileAttributes b =
        Files.readAttributes(home, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (b.isSymbolicLink()) {
      throw unsafe(
          home,
          "is a symbolic link (to " + Files.readSymbolicLink(home) + ")",
          "give the real directory with --home");
    }
    if (!b.isDirectory()) {
      throw unsafe(home, "is not a directory", "give a directory with --home");
    }
    PosixFileAttributes a = posix(home);
    if (a != null) {
      int owner = (Integer) Files.getAttribute(home, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      int me = currentUid();
      if (owner != me) {
        throw unsafe(
            home,
            "belongs to another user (uid " + owner + ", not " + me + ")",
            "run the agent as its owner, or 'chown' the directory to this user");
      }
      if (writableByOthers(a.permissions())) {
        throw unsafe(
            home,
            "can be written by group or others (mode "
                + PosixFilePermissions.toString(a.permissions())
                + ")",
            "run 'chmod 700 " + home + "'");
      }
    }
    checkAncestors(home, home.getParent());
    return true;
  }

  private static void checkAncestors(Path home, Path from) throws IOException {
    for (Path p = from; p != null; p = p.getParent()) {
      if (Files.notExists(p)) {
        continue;
      }
      PosixFileAttributes a = posix(p.toRealPath());
      if (a == null) {
        return;
      }
      boolean sticky = ((Integer) Files.getAttribute(p.toRealPath(), "unix:mode") & 01000) != 0;
      if (!sticky && writableByOthers(a.permissions())) {
        throw unsafe(
            home,
            "lies under "
                + p
                + ", which other users can write to (mode "
                + PosixFilePermissions.toString(a.permissions())
                + ")",
            "run 'chmod go-w " + p + "' or give a home elsewhere");
      }
    }
  }

  private static boolean writableByOthers(Set<PosixFilePermission> p) {
    return p.contains(PosixFilePermission.GROUP_WRITE)
        || p.contains(PosixFilePermission.OTHERS_WRITE);
  }

  private static PosixFileAttributes posix(Path p) throws IOException {
    PosixFileAttributeView v =
        Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    return v == null ? null : v.readAttributes();
  }

  private static ConfigurationException unsafe(Path home, String what, String fix) {
    return new ConfigurationException(
        "home",
        "the agent's home "
            + home
            + " "
            + what
            + ": another local user could replace its certificate or trusted hosts; "
            + fix);
  }

  /** This process's user id (-1 on a system without {@code /proc}: treated as not root). */
  static int currentUid() throws IOException {
    Path self = Path.of("/proc/self");
    if (!Files.exists(self)) {
      return -1;
    }
    return (Integer) Files.getAttribute(self, "unix:uid");
  }
}
