package io.workerpools.container;

import io.workerpools.ConfigurationException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * The container a step runs in: an image and how to run it. Immutable; build with {@link
 * #builder(String)}. A {@link io.workerpools.transport.ScriptRequest} without one runs as before.
 *
 * @param image the image reference ({@code registry/name:tag} or {@code name@sha256:...})
 * @param pullPolicy when the worker's engine pulls the image
 * @param user the user the script runs as in the container ({@code uid}, {@code uid:gid} or a
 *     name); empty: the worker's own uid and gid, so files the script writes in the mounted working
 *     directory belong to the worker's user and can be cleaned up
 * @param workingDirectory where the step's working directory is mounted in the container, and the
 *     script's current directory there (absolute)
 * @param cpus the most CPUs the container may use (for example 1.5); empty: no limit
 * @param memoryBytes the most memory the container may use; empty: no limit
 * @param mounts more host directories of the worker mounted into the container
 * @param network the container's network: {@value #NETWORK_NONE} (the default), {@value
 *     #NETWORK_HOST}, or the name of a network that exists on the worker's engine
 * @param shell the interpreter inside the container; empty: {@code bash} if the image has it, else
 *     {@code sh}
 * @param labels more labels on the container (the library adds its own, see {@link
 *     #EXECUTION_LABEL})
 */
public record ContainerSpec(
    String image,
    PullPolicy pullPolicy,
    Optional<String> user,
    String workingDirectory,
    OptionalDouble cpus,
    OptionalLong memoryBytes,
    List<Mount> mounts,
    String network,
    Optional<String> shell,
    Map<String, String> labels) {

  /** No network at all: the default. */
  public static final String NETWORK_NONE = "none";

  /** The worker's own network stack (the container reaches the worker's 127.0.0.1). */
  public static final String NETWORK_HOST = "host";

  /** The default {@link #workingDirectory()}. */
  public static final String DEFAULT_WORKING_DIRECTORY = "/workspace";

  /** The label every container the library starts carries, with the step's execution id. */
  public static final String EXECUTION_LABEL = "io.workerpools.execution";

  /** The label every container the library starts carries, with the value {@code true}. */
  public static final String LIBRARY_LABEL = "io.workerpools.container";

  /**
   * The label a container of a step with a timeout carries: the epoch second after which it is an
   * orphan (the step's timeout plus a minute), so that a health check may remove it even running.
   */
  public static final String DEADLINE_LABEL = "io.workerpools.deadline";

  /** The label every container the library starts carries: the epoch second it was started. */
  public static final String STARTED_LABEL = "io.workerpools.started";

  /** The longest image reference accepted. */
  public static final int MAX_IMAGE_CHARS = 255;

  private static final Pattern IMAGE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:@+-]*");
  private static final Pattern USER =
      Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_.-]+)?");
  private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9_./@+-]*");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  private static final Pattern LABEL_KEY = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,127}");
  private static final Pattern LABEL_VALUE = Pattern.compile("[A-Za-z0-9_.:/@+=-]{0,255}");

  /** When the worker's engine pulls the image. */
  public enum PullPolicy {
    /** Pull only when the worker does not have the image (the default). */
    IF_MISSING("missing"),
    /** Pull before every run (a moving tag gets its newest image). */
    ALWAYS("always"),
    /** Never pull: the image must be on the worker already. */
    NEVER("never");

    private final String cli;

    PullPolicy(String cli) {
      this.cli = cli;
    }

    /** The value of the CLI's {@code --pull} option (docker 20.10+ and podman agree on it). */
    public String cliValue() {
      return cli;
    }
  }

  /**
   * A directory of the worker mounted into the container.
   *
   * @param source an absolute path on the worker
   * @param target an absolute path in the container
   * @param readOnly whether the container may only read it
   */
  public record Mount(String source, String target, boolean readOnly) {
    public Mount {
      checkPath("mounts.source", source);
      checkPath("mounts.target", target);
    }
  }

  public ContainerSpec {
    if (image == null
        || image.length() > MAX_IMAGE_CHARS
        || !IMAGE.matcher(image).matches()
        || image.contains("..")) {
      throw new ConfigurationException(
          "container.image",
          "'"
              + image
              + "' is not an image reference: use letters, digits and . _ / : @ + -, up to "
              + MAX_IMAGE_CHARS
              + " characters (for example debian:12 or registry.example:5000/tools@sha256:...)");
    }
    Objects.requireNonNull(pullPolicy, "pullPolicy");
    user = user == null ? Optional.empty() : user;
    user.ifPresent(
        u -> {
          if (!USER.matcher(u).matches() || u.length() > 128) {
            throw new ConfigurationException(
                "container.user",
                "'" + u + "' is not a user: give uid, uid:gid or a name (letters, digits, _ . -)");
          }
        });
    checkPath("container.workingDirectory", workingDirectory);
    cpus = cpus == null ? OptionalDouble.empty() : cpus;
    if (cpus.isPresent() && !(cpus.getAsDouble() > 0 && cpus.getAsDouble() <= 4096)) {
      throw new ConfigurationException(
          "container.cpus", "must be more than 0 and at most 4096 but was " + cpus.getAsDouble());
    }
    memoryBytes = memoryBytes == null ? OptionalLong.empty() : memoryBytes;
    if (memoryBytes.isPresent() && memoryBytes.getAsLong() < 6L * 1024 * 1024) {
      throw new ConfigurationException(
          "container.memoryBytes",
          "must be at least 6 MiB (the engines' minimum) but was " + memoryBytes.getAsLong());
    }
    mounts = List.copyOf(mounts == null ? List.of() : mounts);
    if (network == null || !NAME.matcher(network).matches()) {
      throw new ConfigurationException(
          "container.network",
          "'" + network + "' is not a network: give none, host or a network name");
    }
    shell = shell == null ? Optional.empty() : shell;
    shell.ifPresent(s -> checkPath("container.shell", s));
    labels = Map.copyOf(labels == null ? Map.of() : labels);
    for (var e : labels.entrySet()) {
      if (!LABEL_KEY.matcher(e.getKey()).matches()
          || e.getKey().startsWith("io.workerpools.")
          || !LABEL_VALUE.matcher(e.getValue()).matches()) {
        throw new ConfigurationException(
            "container.labels",
            "'"
                + e.getKey()
                + "' is not a label the library accepts: keys are lower-case letters, digits and _"
                + " . - (not starting with io.workerpools.), values letters, digits and _ . : / @"
                + " + = -");
      }
    }
  }

  /** A spec for this image with every other option at its default. */
  public static ContainerSpec of(String image) {
    return builder(image).build();
  }

  public static Builder builder(String image) {
    return new Builder(image);
  }

  private static void checkPath(String field, String path) {
    if (path == null
        || path.length() > 4096
        || !PATH.matcher(path).matches()
        || (path + "/").contains("/../")
        || (path + "/").contains("/./")) {
      throw new ConfigurationException(
          field,
          "'"
              + path
              + "' must be an absolute path of letters, digits and _ . / @ + -, without . or ..");
    }
  }

  @Override
  public String toString() {
    return "ContainerSpec[" + image + ", pull " + pullPolicy + ", network " + network + "]";
  }

  /**
   * Builds a {@link ContainerSpec}. Defaults: pull {@link PullPolicy#IF_MISSING}, the worker's
   * user, {@value #DEFAULT_WORKING_DIRECTORY}, no limits, no extra mounts, network {@value
   * #NETWORK_NONE}. Values are validated by {@link #build()}.
   */
  public static final class Builder {
    private final String image;
    private PullPolicy pullPolicy = PullPolicy.IF_MISSING;
    private String user;
    private String workingDirectory = DEFAULT_WORKING_DIRECTORY;
    private OptionalDouble cpus = OptionalDouble.empty();
    private OptionalLong memoryBytes = OptionalLong.empty();
    private final List<Mount> mounts = new ArrayList<>();
    private String network = NETWORK_NONE;
    private String shell;
    private final Map<String, String> labels = new LinkedHashMap<>();

    private Builder(String image) {
      this.image = image;
    }

    public Builder pullPolicy(PullPolicy policy) {
      this.pullPolicy = policy;
      return this;
    }

    public Builder user(String user) {
      this.user = user;
      return this;
    }

    public Builder workingDirectory(String path) {
      this.workingDirectory = path;
      return this;
    }

    public Builder cpus(double cpus) {
      this.cpus = OptionalDouble.of(cpus);
      return this;
    }

    public Builder memoryBytes(long bytes) {
      this.memoryBytes = OptionalLong.of(bytes);
      return this;
    }

    public Builder mount(String source, String target, boolean readOnly) {
      mounts.add(new Mount(source, target, readOnly));
      return this;
    }

    /** The worker's own network: only when the step must reach the worker's loopback. */
    public Builder hostNetwork() {
      this.network = NETWORK_HOST;
      return this;
    }

    /** A named network on the worker's engine. */
    public Builder network(String name) {
      this.network = name;
      return this;
    }

    public Builder shell(String path) {
      this.shell = path;
      return this;
    }

    public Builder label(String key, String value) {
      labels.put(Objects.requireNonNull(key, "label key"), Objects.requireNonNull(value, key));
      return this;
    }

    public ContainerSpec build() {
      return new ContainerSpec(
          image,
          pullPolicy,
          Optional.ofNullable(user),
          workingDirectory,
          cpus,
          memoryBytes,
          mounts,
          network,
          Optional.ofNullable(shell),
          labels);
    }
  }
}
