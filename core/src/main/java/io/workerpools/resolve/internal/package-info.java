/**
 * Mechanisms the resolver is built from that other core packages reuse (the dispatcher's
 * max-parallelism gate waits in the same {@link io.workerpools.resolve.internal.WaitQueue}). Not
 * API: hosts must not use these types; they may change in any release.
 */
package io.workerpools.resolve.internal;
