package io.workerpools.local;

import io.workerpools.local.LocalProcessTransport.StartMode;

/**
 * The local-process transport with one JDK spawn per script ({@link StartMode#SPAWN_PER_SCRIPT}, an
 * option, and the fallback of the persistent launcher) passes the shared transport contract.
 */
class LocalSpawnPerScriptContractTest extends LocalTransportContractBase {
  @Override
  StartMode mode() {
    return StartMode.SPAWN_PER_SCRIPT;
  }
}
