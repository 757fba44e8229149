/**
 * Implementation details of the Tentacle transport and agent: framing, the wire messages, pinned
 * TLS, the agent's script and file services, the host's connection pool and polling queues. Not an
 * API: anything here may change without notice.
 */
package io.workerpools.tentacle.internal;
