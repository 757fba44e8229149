/**
 * Implementation details of the built-in worker: the two {@link
 * io.workerpools.local.internal.Starter}s (the persistent launcher and its loopback side, one spawn
 * per script), command lines, working directories, process-tree killing, interpreter lookup. Not an
 * API: anything here may change without notice.
 */
package io.workerpools.local.internal;
