package io.workerpools.tentacle;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * A Tentacle worker's endpoint, parsed and validated:
 *
 * <pre>{@code
 * Endpoint.of("tentacle-listening", "https://host:10933", Map.of("thumbprint", "AB12..."))
 * Endpoint.of("tentacle-polling", "poll://SUBSCRIPTION", Map.of("thumbprint", "AB12..."))
 * }</pre>
 *
 * @param polling whether the agent polls the host (else the host connects to it)
 * @param address the listening agent's address (empty for a polling agent)
 * @param subscription the polling subscription (empty for a listening agent)
 * @param thumbprint the agent's certificate thumbprint, normalised (64 upper-case hex digits)
 */
public record TentacleEndpoint(
    boolean polling,
    Optional<InetSocketAddress> address,
    Optional<String> subscription,
    String thumbprint) {

  /** Property: the agent's certificate thumbprint (required). */
  public static final String THUMBPRINT = "thumbprint";

  public TentacleEndpoint {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(subscription, "subscription");
    Objects.requireNonNull(thumbprint, "thumbprint");
  }

  /**
   * Parses a worker's endpoint.
   *
   * @throws ConfigurationException naming the field that is wrong
   */
  public static TentacleEndpoint of(Worker worker) {
    Endpoint e = worker.endpoint();
    boolean listening = TentacleTransport.LISTENING.equals(e.kind());
    if (!listening && !TentacleTransport.POLLING.equals(e.kind())) {
      throw new ConfigurationException(
          "worker " + worker.id() + ".endpoint.kind",
          "'"
              + e.kind()
              + "' is not served by the Tentacle transport; use "
              + TentacleTransport.LISTENING
              + " or "
              + TentacleTransport.POLLING);
    }
    String thumbprint =
        TentacleCertificate.normalizeThumbprint(
            "worker " + worker.id() + ".endpoint.properties.thumbprint", e.require(THUMBPRINT));
    if (listening) {
      return new TentacleEndpoint(
          false, Optional.of(listeningAddress(worker, e.address())), Optional.empty(), thumbprint);
    }
    return new TentacleEndpoint(
        true, Optional.empty(), Optional.of(subscriptionOf(worker, e.address())), thumbprint);
  }

  static InetSocketAddress listeningAddress(Worker worker, String address) {
    try {
      URI u = URI.create(address);
      if (!"https".equals(u.getScheme()) || u.getHost() == null) {
        throw new IllegalArgumentException("not https://host:port");
      }
      return new InetSocketAddress(
          u.getHost(), u.getPort() < 0 ? TentacleTransport.DEFAULT_AGENT_PORT : u.getPort());
    } catch (IllegalArgumentException ex) {
      throw new ConfigurationException(
          "worker " + worker.id() + ".endpoint.address",
          "'" + address + "' is not a listening agent address: use https://host:port");
    }
  }

  static String subscriptionOf(Worker worker, String address) {
    String s = address.startsWith("poll://") ? address.substring(7) : "";
    if (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    if (!s.matches("[A-Za-z0-9._-]{1,128}")) {
      throw new ConfigurationException(
          "worker " + worker.id() + ".endpoint.address",
          "'"
              + address
              + "' is not a polling address: use poll://SUBSCRIPTION (letters, digits, . _ -)");
    }
    return s;
  }
}
