/**
 * The built-in worker: {@link io.workerpools.local.LocalProcessTransport} runs a step's script as a
 * child process of the host, in a fresh working directory, in its own process group so that
 * cancellation and timeouts kill the whole process tree.
 */
package io.workerpools.local;
