/**
 * The table of hostile inputs: fuzzed agent frames, oversized and binary output, bounded fork
 * bombs, path tricks, broken configuration files and leaking secrets. Each row is a test; see
 * {@code docs/reliability.md} (its "Hostile inputs" section).
 */
package io.workerpools.reliability.hostile;
