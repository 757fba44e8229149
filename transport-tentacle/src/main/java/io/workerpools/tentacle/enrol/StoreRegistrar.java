package io.workerpools.tentacle.enrol;

import io.workerpools.WorkerPoolsException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.tentacle.TentacleTransport;
import java.util.Map;
import java.util.Optional;

/**
 * {@link EnrolmentListener#recordingIn}: the worker goes into the store with the agent's thumbprint
 * pinned in its endpoint; a polling agent's subscription (the worker's id) is bound on the
 * transport. Serialised, so two enrolments asking for one name cannot both win.
 */
final class StoreRegistrar implements EnrolmentListener.Registrar {
  private final InfrastructureStore store;
  private final TentacleTransport transport;

  StoreRegistrar(InfrastructureStore store, TentacleTransport transport) {
    this.store = store;
    this.transport = transport;
  }

  @Override
  public synchronized EnrolmentListener.Enrolled register(EnrolmentListener.Enrolment e) {
    Optional<Worker> existing = store.infrastructure().worker(WorkerId.of(e.name()));
    if (existing.isPresent()
        && !e.agentThumbprint().equals(existing.get().endpoint().properties().get("thumbprint"))) {
      throw new WorkerPoolsException(
          "a worker named '"
              + e.name()
              + "' is already registered with another certificate; enrol under another name");
    }
    if (store.infrastructure().pool(e.pool()).isEmpty()) {
      throw new WorkerPoolsException(
          "pool '" + e.pool().value() + "' no longer exists on the host; ask for a new token");
    }
    Endpoint endpoint =
        e.listeningAddress()
            .map(
                a ->
                    Endpoint.of(
                        TentacleTransport.LISTENING,
                        "https://" + a.getAddress().getHostAddress() + ":" + a.getPort(),
                        Map.of("thumbprint", e.agentThumbprint())))
            .orElseGet(
                () ->
                    Endpoint.of(
                        TentacleTransport.POLLING,
                        "poll://" + e.name(),
                        Map.of("thumbprint", e.agentThumbprint())));
    Worker w =
        Worker.builder(e.name())
            .pool(e.pool())
            .endpoint(endpoint)
            .label("enrolled-with-token", e.tokenId())
            .build();
    if (e.listeningAddress().isEmpty()) {
      transport.registerPollingAgent(e.name(), e.agentThumbprint());
    }
    store.putWorker(w);
    return new EnrolmentListener.Enrolled(
        e.name(), e.listeningAddress().isEmpty() ? Optional.of(e.name()) : Optional.empty());
  }
}
