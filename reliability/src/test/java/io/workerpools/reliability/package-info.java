/**
 * The reliability suite: soak runs under injected faults with a ledger that proves nothing is lost,
 * and the table of hostile inputs. See {@code docs/reliability.md}.
 */
package io.workerpools.reliability;
