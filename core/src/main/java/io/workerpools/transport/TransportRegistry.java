package io.workerpools.transport;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Endpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The transports a host registered, in the order they are asked whether they reach an endpoint: the
 * first that {@linkplain WorkerTransport#supports supports} a worker's endpoint reaches it. The
 * dispatcher (to run scripts) and the health monitor (to check workers) look transports up here, so
 * that both always pick the same transport for a worker.
 *
 * <p>Immutable and thread-safe. It does not own its transports: closing them is the host's (or the
 * facade's) job.
 */
public final class TransportRegistry {
  private static final TransportRegistry EMPTY = new TransportRegistry(List.of());

  private final List<WorkerTransport> transports;

  private TransportRegistry(List<WorkerTransport> transports) {
    this.transports = transports;
  }

  /** No transport. */
  public static TransportRegistry empty() {
    return EMPTY;
  }

  /**
   * These transports, asked in this order.
   *
   * @throws ConfigurationException naming {@code transports[i]} if an element is null
   */
  public static TransportRegistry of(List<? extends WorkerTransport> transports) {
    Objects.requireNonNull(transports, "transports");
    List<WorkerTransport> copy = new ArrayList<>(transports.size());
    for (int i = 0; i < transports.size(); i++) {
      WorkerTransport t = transports.get(i);
      if (t == null) {
        throw new ConfigurationException("transports[" + i + "]", "must not be null");
      }
      copy.add(t);
    }
    return new TransportRegistry(List.copyOf(copy));
  }

  /** This registry with {@code transport} asked last. */
  public TransportRegistry plus(WorkerTransport transport) {
    Objects.requireNonNull(transport, "transport");
    List<WorkerTransport> copy = new ArrayList<>(transports);
    copy.add(transport);
    return new TransportRegistry(List.copyOf(copy));
  }

  /** The first transport that supports the endpoint, or empty if none does. */
  public Optional<WorkerTransport> forEndpoint(Endpoint endpoint) {
    Objects.requireNonNull(endpoint, "endpoint");
    for (WorkerTransport t : transports) {
      if (t.supports(endpoint)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** Whether some transport supports the endpoint. */
  public boolean supports(Endpoint endpoint) {
    return forEndpoint(endpoint).isPresent();
  }

  /** The transports, in the order they are asked. */
  public List<WorkerTransport> transports() {
    return transports;
  }

  @Override
  public String toString() {
    return "TransportRegistry" + transports;
  }
}
