package io.workerpools.store;

import io.workerpools.ConfigurationException;
import java.util.Objects;

/**
 * Another live host node sharing the store already uses this node id. Leases are renewed by node
 * id, so two live nodes with one id would keep each other's leases alive forever; the second is
 * refused instead. Fix: leave the node id unset (each node then gets a random one), or give every
 * node its own.
 */
public class NodeIdInUseException extends ConfigurationException {
  private static final long serialVersionUID = 1L;
  private final String nodeId;

  public NodeIdInUseException(String nodeId, String detail) {
    super(
        "workerPools.nodeId",
        "node id '"
            + Objects.requireNonNull(nodeId, "nodeId")
            + "' is already used by another live node sharing this store ("
            + detail
            + "); leave nodeId unset so that each node gets a random one, or give each node its"
            + " own id (a node that died frees its id once its heartbeat expires)");
    this.nodeId = nodeId;
  }

  /** The node id that is in use. */
  public String nodeId() {
    return nodeId;
  }
}
