/**
 * The built-in worker: {@link io.workerpools.local.LocalProcessTransport} runs a step's script as a
 * process of the host, in a fresh working directory under a base directory checked to be safe from
 * other local users, with a clean environment ({@link io.workerpools.local.HostEnvironment}), in
 * its own process group so that cancellation and timeouts kill the whole process tree. {@link
 * io.workerpools.local.LocalScriptRunner} is the same runner without the worker, for running a
 * request in a directory the caller provides (an agent on its own machine).
 */
package io.workerpools.local;
