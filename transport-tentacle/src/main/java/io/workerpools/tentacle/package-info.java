/** The Tentacle-style agent and its host-side transport, over mutual TLS. */
package io.workerpools.tentacle;
