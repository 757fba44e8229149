/**
 * Implementation details of the local-process transport (the persistent launcher, line splitting,
 * process-tree killing, interpreter lookup). Not an API: anything here may change without notice.
 */
package io.workerpools.local.internal;
