package io.workerpools.relay;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Relays calls between the host nodes that share a store, so that a peer connected to one node (a
 * polling agent) can be called from any node. A node that holds a peer's connection {@linkplain
 * #announce announces} the peer's address; a node that must call a peer it does not hold finds the
 * {@linkplain #holder holder} and {@linkplain #call calls} it; the holder's {@link RelayHandler}
 * serves the call and its reply travels back the same way.
 *
 * <p>Payloads are opaque bytes of at most {@link #maxPayloadBytes()}; every call carries an id and
 * an absolute deadline ({@link RelayCall}), and every wait ends by it. Announcements expire unless
 * the relay refreshes them: a node that dies stops being a holder after the relay's announcement
 * TTL, and calls sent to it fail at their deadline ({@link RelayException.Reason#DEADLINE_PASSED}).
 *
 * <p>Who calls it: a transport (the Tentacle transport's polling side) from its own threads. {@link
 * #announce}, {@link #withdraw}, {@link #serve} and {@link #call} never block on the store (the
 * relay does the work on its own threads); {@link #holder} runs one short query (implementations
 * may cache it briefly). Implementations are thread-safe. Nothing here knows what the payload
 * means: the transport encodes it and validates what arrives as peer input.
 *
 * <p>The in-memory store needs no relay: a host with one node configures none, and its transports
 * behave as without this SPI.
 */
public interface NodeRelay extends AutoCloseable {
  /** This node's id in the relay: unique among the live nodes sharing the store. */
  String nodeId();

  /** The largest payload, request or reply, this relay carries. */
  int maxPayloadBytes();

  /**
   * Makes it known that {@code address} is held here, until {@link #withdraw} or until this node
   * stops refreshing it (it dies or closes). Idempotent; returns at once.
   */
  void announce(String address);

  /** Stops announcing {@code address} from this node. Idempotent; returns at once. */
  void withdraw(String address);

  /**
   * A live node other than this one that announces {@code address}, if any (several may: the first
   * found is returned).
   *
   * @throws RelayException ({@link RelayException.Reason#STORE_FAILURE}) if the store failed
   */
  Optional<String> holder(String address);

  /**
   * Sends {@code call} to {@code node} and returns its reply payload. The stage completes by the
   * call's deadline: with the reply, or with a {@link RelayException} (the deadline passed, the
   * holder's handler failed, the payload was too large, the store failed, the relay closed).
   */
  CompletionStage<byte[]> call(String node, RelayCall call);

  /**
   * Sets the handler for calls relayed to this node (replacing any earlier one). Calls that arrive
   * with no handler set fail with {@link RelayException.Reason#REMOTE_FAILURE}.
   */
  void serve(RelayHandler handler);

  /**
   * Withdraws every announcement, fails the calls still waiting with {@link
   * RelayException.Reason#CLOSED} and stops the relay's threads.
   */
  @Override
  void close();
}
