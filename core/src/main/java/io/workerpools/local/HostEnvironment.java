package io.workerpools.local;

import io.workerpools.ConfigurationException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Which of the host's environment variables a script on the built-in worker sees, before the
 * variables its request sets (which always arrive, and win).
 *
 * <ul>
 *   <li>{@link #clean()} (the default): only {@link #DEFAULT_NAMES} ({@code PATH}, {@code HOME},
 *       {@code USER}, {@code LOGNAME}, {@code SHELL}, {@code LANG}, {@code LANGUAGE}, {@code TZ},
 *       {@code TMPDIR}) and the locale variables {@code LC_*}, if the host has them. A host that
 *       holds {@code DB_PASSWORD} in its environment does not hand it to user scripts.
 *   <li>{@link #allowing(Collection)}: those, plus the variables named.
 *   <li>{@link #inherit()}: the host's whole environment, as a child process gets by default. An
 *       explicit choice, for hosts whose environment holds nothing a script should not see.
 * </ul>
 *
 * <p>A script run as another OS user ({@code ScriptRequest.runAsUser}) never gets the host's
 * environment, whatever the policy: only {@link #OTHER_USER_NAMES} ({@code PATH}, {@code LANG},
 * {@code LANGUAGE}, {@code TZ}, {@code LC_*}) among the allowed ones, plus its request's variables;
 * the user switch ({@code runuser}) sets {@code HOME}, {@code SHELL}, {@code USER} and {@code
 * LOGNAME} to the other user's. Immutable.
 */
public final class HostEnvironment {
  /** The variables a clean environment keeps, besides {@code LC_*}. */
  public static final Set<String> DEFAULT_NAMES =
      Set.of("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR");

  /** The most a script run as another user gets from the host, besides {@code LC_*}. */
  public static final Set<String> OTHER_USER_NAMES = Set.of("PATH", "LANG", "LANGUAGE", "TZ");

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final HostEnvironment CLEAN = new HostEnvironment(false, DEFAULT_NAMES);
  private static final HostEnvironment INHERIT = new HostEnvironment(true, DEFAULT_NAMES);

  private final boolean inherit;
  private final Set<String> names;

  private HostEnvironment(boolean inherit, Set<String> names) {
    this.inherit = inherit;
    this.names = Set.copyOf(names);
  }

  /** Only {@link #DEFAULT_NAMES} and {@code LC_*} from the host (the default). */
  public static HostEnvironment clean() {
    return CLEAN;
  }

  /** {@link #DEFAULT_NAMES}, {@code LC_*} and these variables from the host. */
  public static HostEnvironment allowing(Collection<String> names) {
    Objects.requireNonNull(names, "names");
    Set<String> all = new TreeSet<>(DEFAULT_NAMES);
    for (String n : names) {
      if (n == null || !NAME.matcher(n).matches()) {
        throw new ConfigurationException(
            "hostEnvironment", "variable names must match [A-Za-z_][A-Za-z0-9_]* but one was " + n);
      }
      all.add(n);
    }
    return new HostEnvironment(false, all);
  }

  /** The host's whole environment (never for a script run as another user). */
  public static HostEnvironment inherit() {
    return INHERIT;
  }

  /** Whether this passes the host's whole environment on. */
  public boolean inherits() {
    return inherit;
  }

  /** The names kept from the host (besides {@code LC_*}) when this does not inherit. */
  public Set<String> names() {
    return names;
  }

  /**
   * What a script run as this host's user starts from, out of the host's environment {@code host}.
   */
  public Map<String, String> select(Map<String, String> host) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : host.entrySet()) {
      if (inherit || names.contains(e.getKey()) || isLocale(e.getKey())) {
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }

  /** What a script run as another user starts from, out of the host's environment {@code host}. */
  public Map<String, String> selectForOtherUser(Map<String, String> host) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : host.entrySet()) {
      String n = e.getKey();
      if (OTHER_USER_NAMES.contains(n) || isLocale(n)) {
        out.put(n, e.getValue());
      }
    }
    return out;
  }

  private static boolean isLocale(String name) {
    return name.startsWith("LC_") && NAME.matcher(name).matches();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HostEnvironment h && h.inherit == inherit && h.names.equals(names);
  }

  @Override
  public int hashCode() {
    return Objects.hash(inherit, names);
  }

  @Override
  public String toString() {
    return inherit ? "HostEnvironment[inherit]" : "HostEnvironment[clean, keeps " + names + "]";
  }
}
