package io.workerpools.transport;

import io.workerpools.ConfigurationException;
import io.workerpools.container.ContainerSpec;
import io.workerpools.model.ScriptSyntax;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A script to run on a worker, as data. Build with {@link #builder(ScriptSyntax, String)}.
 *
 * @param executionId a unique id for this run, made by the host (transports use it for idempotency:
 *     a retried start with the same id never runs the script twice)
 * @param syntax the script's language
 * @param body the script text
 * @param arguments passed to the script verbatim, one argument each, never through a shell
 * @param environment variables set for the script
 * @param sensitiveValues values masked as {@value SensitiveMasker#MASK} in every log line
 * @param files files placed beside the script in its working directory
 * @param timeout the longest the script may run; empty: no limit
 * @param isolation whether the script must run alone on its worker
 * @param mutexName the name of the isolation mutex (scripts with different names do not exclude
 *     each other)
 * @param mutexTimeout how long to wait for the isolation mutex
 * @param keepWorkingDirectory keep the working directory after the script ends (for debugging)
 * @param runAsUser run as this OS user instead of the host's (local transport; needs privileges)
 * @param container run inside a container of this image on the worker (see {@link
 *     io.workerpools.container.ContainerSteps}); empty: directly on the worker
 */
public record ScriptRequest(
    String executionId,
    ScriptSyntax syntax,
    String body,
    List<String> arguments,
    Map<String, String> environment,
    Set<String> sensitiveValues,
    List<ScriptFile> files,
    Optional<Duration> timeout,
    Isolation isolation,
    String mutexName,
    Duration mutexTimeout,
    boolean keepWorkingDirectory,
    Optional<String> runAsUser,
    Optional<ContainerSpec> container) {

  /** Whether a script must run alone on its worker. */
  public enum Isolation {
    /** Runs alongside other scripts (takes the mutex shared). */
    NONE,
    /** Runs alone (takes the mutex exclusively). */
    FULL
  }

  /** The default mutex name. */
  public static final String DEFAULT_MUTEX = "default";

  public ScriptRequest {
    if (executionId == null || executionId.isBlank()) {
      throw new ConfigurationException("executionId", "must not be empty");
    }
    Objects.requireNonNull(syntax, "syntax");
    Objects.requireNonNull(body, "body");
    arguments = List.copyOf(arguments == null ? List.of() : arguments);
    environment = Map.copyOf(environment == null ? Map.of() : environment);
    sensitiveValues = Set.copyOf(sensitiveValues == null ? Set.of() : sensitiveValues);
    files = List.copyOf(files == null ? List.of() : files);
    timeout = timeout == null ? Optional.empty() : timeout;
    timeout.ifPresent(
        t -> {
          if (t.isNegative() || t.isZero()) {
            throw new ConfigurationException("timeout", "must be positive but was " + t);
          }
        });
    isolation = isolation == null ? Isolation.NONE : isolation;
    mutexName = mutexName == null || mutexName.isBlank() ? DEFAULT_MUTEX : mutexName;
    mutexTimeout = mutexTimeout == null ? Duration.ofMinutes(10) : mutexTimeout;
    runAsUser = runAsUser == null ? Optional.empty() : runAsUser;
    container = container == null ? Optional.empty() : container;
    if (container.isPresent() && runAsUser.isPresent()) {
      throw new ConfigurationException(
          "runAsUser",
          "cannot be combined with a container: name the user in the container spec instead");
    }
  }

  public static Builder builder(ScriptSyntax syntax, String body) {
    return new Builder(syntax, body);
  }

  /** A bash script with no arguments. */
  public static ScriptRequest bash(String body) {
    return builder(ScriptSyntax.BASH, body).build();
  }

  /** A masker for this request's sensitive values. */
  public SensitiveMasker masker() {
    return SensitiveMasker.of(sensitiveValues);
  }

  /** A copy with another execution id (for example, one per attempt). */
  public ScriptRequest withExecutionId(String id) {
    return new ScriptRequest(
        id,
        syntax,
        body,
        arguments,
        environment,
        sensitiveValues,
        files,
        timeout,
        isolation,
        mutexName,
        mutexTimeout,
        keepWorkingDirectory,
        runAsUser,
        container);
  }

  /** A copy without a container (what {@code ContainerSteps} builds on) or with another one. */
  public ScriptRequest withContainer(Optional<ContainerSpec> spec) {
    return new ScriptRequest(
        executionId,
        syntax,
        body,
        arguments,
        environment,
        sensitiveValues,
        files,
        timeout,
        isolation,
        mutexName,
        mutexTimeout,
        keepWorkingDirectory,
        runAsUser,
        spec);
  }

  @Override
  public String toString() {
    // Never print values: they may be sensitive.
    return "ScriptRequest["
        + executionId
        + ", "
        + syntax
        + ", "
        + body.length()
        + " chars"
        + container.map(c -> ", in " + c.image()).orElse("")
        + "]";
  }

  /** A file placed beside the script; {@code name} is a relative path without {@code ..}. */
  public record ScriptFile(String name, byte[] content) {
    public ScriptFile {
      if (name == null
          || name.isBlank()
          || name.startsWith("/")
          || name.startsWith("\\")
          || Arrays.asList(name.split("[/\\\\]")).contains("..")) {
        throw new ConfigurationException(
            "files.name",
            "'" + name + "' must be a relative path inside the working directory, without '..'");
      }
      content = content.clone();
    }

    @Override
    public byte[] content() {
      return content.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ScriptFile f && f.name.equals(name) && Arrays.equals(f.content, content);
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + Arrays.hashCode(content);
    }

    @Override
    public String toString() {
      return "ScriptFile[" + name + ", " + content.length + " bytes]";
    }
  }

  /** Builds a {@link ScriptRequest}. Defaults: a random execution id, no arguments, no timeout. */
  public static final class Builder {
    private String executionId = UUID.randomUUID().toString();
    private final ScriptSyntax syntax;
    private final String body;
    private final List<String> arguments = new ArrayList<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final Set<String> sensitive = new LinkedHashSet<>();
    private final List<ScriptFile> files = new ArrayList<>();
    private Duration timeout;
    private Isolation isolation = Isolation.NONE;
    private String mutexName = DEFAULT_MUTEX;
    private Duration mutexTimeout = Duration.ofMinutes(10);
    private boolean keepWorkingDirectory;
    private String runAsUser;
    private ContainerSpec container;

    private Builder(ScriptSyntax syntax, String body) {
      this.syntax = syntax;
      this.body = body;
    }

    public Builder executionId(String id) {
      this.executionId = id;
      return this;
    }

    public Builder argument(String arg) {
      arguments.add(Objects.requireNonNull(arg, "argument"));
      return this;
    }

    public Builder arguments(String... args) {
      for (String a : args) {
        argument(a);
      }
      return this;
    }

    public Builder env(String name, String value) {
      checkEnvName(name);
      environment.put(name, Objects.requireNonNull(value, "value of " + name));
      return this;
    }

    /** An environment variable whose value is masked in every log line. */
    public Builder sensitiveEnv(String name, String value) {
      env(name, value);
      sensitiveValue(value);
      return this;
    }

    /** A value to mask wherever it appears in the output. Empty values are ignored. */
    public Builder sensitiveValue(String value) {
      if (value != null && !value.isEmpty()) {
        sensitive.add(value);
      }
      return this;
    }

    public Builder file(String name, byte[] content) {
      files.add(new ScriptFile(name, content));
      return this;
    }

    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    public Builder isolation(Isolation isolation, String mutexName, Duration mutexTimeout) {
      this.isolation = isolation;
      this.mutexName = mutexName;
      this.mutexTimeout = mutexTimeout;
      return this;
    }

    public Builder keepWorkingDirectory(boolean keep) {
      this.keepWorkingDirectory = keep;
      return this;
    }

    public Builder runAsUser(String user) {
      this.runAsUser = user;
      return this;
    }

    /** Runs the script inside a container of this spec's image on the worker. */
    public Builder container(ContainerSpec spec) {
      this.container = spec;
      return this;
    }

    public ScriptRequest build() {
      return new ScriptRequest(
          executionId,
          syntax,
          body,
          arguments,
          environment,
          sensitive,
          files,
          Optional.ofNullable(timeout),
          isolation,
          mutexName,
          mutexTimeout,
          keepWorkingDirectory,
          Optional.ofNullable(runAsUser),
          Optional.ofNullable(container));
    }

    private static void checkEnvName(String name) {
      if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        throw new ConfigurationException(
            "environment",
            "'"
                + name
                + "' is not a valid variable name: use letters, digits and '_', not starting"
                + " with a digit");
      }
    }
  }
}
