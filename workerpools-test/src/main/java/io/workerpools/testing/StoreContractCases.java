package io.workerpools.testing;

/**
 * What every group of {@link InfrastructureStoreContract}'s cases is given: the contract itself,
 * which opens (and closes) the stores under test. The groups are interfaces whose {@code @Test}
 * default methods JUnit runs in every class that extends the contract.
 */
interface StoreContractCases {

  /** The contract under way (the test instance). */
  InfrastructureStoreContract storeContract();
}
