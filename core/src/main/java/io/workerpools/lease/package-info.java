/** Leases: the token a step holds on a worker while it runs. */
package io.workerpools.lease;
