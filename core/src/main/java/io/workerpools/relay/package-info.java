/**
 * The node-to-node relay: several host nodes that share a store reach, through it, a peer (a
 * polling agent) that is connected to one of them only. {@link io.workerpools.relay.NodeRelay} is
 * the SPI; the JDBC module implements it on PostgreSQL ({@code io.workerpools.jdbc.relay}). A host
 * with one node, or on the in-memory store, configures none: transports then behave as before.
 */
package io.workerpools.relay;
