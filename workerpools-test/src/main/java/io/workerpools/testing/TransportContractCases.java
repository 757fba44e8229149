package io.workerpools.testing;

/**
 * What every group of {@link WorkerTransportContract}'s cases is given: the contract itself, with
 * its transport, worker, patience and helpers. The groups are interfaces whose {@code @Test}
 * default methods JUnit runs in every class that extends the contract.
 */
interface TransportContractCases {

  /** The contract under way (the test instance). */
  WorkerTransportContract transportContract();
}
