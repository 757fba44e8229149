package io.workerpools.model;

import io.workerpools.ConfigurationException;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a transport needs to reach a worker. The {@code kind} names the transport ({@code local},
 * {@code ssh}, {@code tentacle-listening}, {@code tentacle-polling}, or a kind a host defines); the
 * address and properties are interpreted by that transport only. Keeping the endpoint generic keeps
 * core free of transport knowledge and makes endpoints trivial to store and load from files.
 *
 * <p>Properties never hold secrets: they hold references (for example a credentials id) that the
 * host's credential provider resolves.
 *
 * @param kind transport kind, non-blank
 * @param address transport-specific address ({@code host:port}, {@code https://host:10933}, ...)
 * @param properties transport-specific settings (host key, thumbprint, user, ...)
 */
public record Endpoint(String kind, String address, Map<String, String> properties) {
  /** The kind of the built-in worker's endpoint. */
  public static final String LOCAL = "local";

  public Endpoint {
    if (kind == null || kind.isBlank()) {
      throw new ConfigurationException("endpoint.kind", "must not be empty");
    }
    address = address == null ? "" : address;
    properties = properties == null ? Map.of() : Map.copyOf(new TreeMap<>(properties));
    for (Map.Entry<String, String> e : properties.entrySet()) {
      Objects.requireNonNull(e.getValue(), "endpoint property " + e.getKey());
    }
  }

  /** A worker reached by running a local child process (the built-in worker's kind). */
  public static Endpoint local() {
    return new Endpoint(LOCAL, "", Map.of());
  }

  public static Endpoint of(String kind, String address) {
    return new Endpoint(kind, address, Map.of());
  }

  public static Endpoint of(String kind, String address, Map<String, String> properties) {
    return new Endpoint(kind, address, properties);
  }

  /** A property, or a {@link ConfigurationException} naming it if it is missing. */
  public String require(String property) {
    String v = properties.get(property);
    if (v == null || v.isBlank()) {
      throw new ConfigurationException(
          "endpoint.properties." + property,
          "is required for a '" + kind + "' endpoint (address '" + address + "')");
    }
    return v;
  }

  @Override
  public String toString() {
    return kind + (address.isEmpty() ? "" : ":" + address);
  }
}
