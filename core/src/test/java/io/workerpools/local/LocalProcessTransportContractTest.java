package io.workerpools.local;

import io.workerpools.local.LocalProcessTransport.StartMode;

/**
 * The local-process transport (the built-in worker) passes the shared transport contract, in its
 * persistent-launcher mode, the default ({@link LocalSpawnPerScriptContractTest} covers the spawn
 * mode).
 */
class LocalProcessTransportContractTest extends LocalTransportContractBase {
  @Override
  StartMode mode() {
    return StartMode.PERSISTENT_LAUNCHER;
  }
}
