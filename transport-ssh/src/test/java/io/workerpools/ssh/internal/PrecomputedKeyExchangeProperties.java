package io.workerpools.ssh.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.apache.sshd.client.ClientBuilder;
import org.apache.sshd.common.kex.BuiltinKEM;
import org.apache.sshd.common.kex.KeyEncapsulationMethod;
import org.apache.sshd.common.kex.KeyExchangeFactory;
import org.junit.jupiter.api.Test;

/**
 * The pre-generated post-quantum keys: each is used for one key exchange only and agrees with the
 * server's side, and the algorithm list stays MINA's default, in its order.
 */
class PrecomputedKeyExchangeProperties {
  private static final Executor DIRECT = Runnable::run;

  @Property(tries = 3)
  void everyHandedOutKeyIsFreshAndAgreesWithTheServer(@ForAll @IntRange(min = 1, max = 3) int n) {
    PrecomputedKeyExchange.KemPool pool =
        new PrecomputedKeyExchange.KemPool(BuiltinKEM.sntrup761, DIRECT, 2);
    pool.refill();
    assertThat(pool.available()).as("made ahead of time").isEqualTo(2);
    Set<String> publicKeys = new HashSet<>();
    for (int i = 0; i < n; i++) {
      KeyEncapsulationMethod.Client c = pool.getClient();
      c.init();
      byte[] pub = c.getPublicKey();
      assertThat(publicKeys.add(java.util.HexFormat.of().formatHex(pub)))
          .as("a key pair is never handed out twice")
          .isTrue();
      KeyEncapsulationMethod.Server s = pool.getServer();
      s.init(pub);
      assertThat(c.extractSecret(s.getEncapsulation())).isEqualTo(s.getSecret());
    }
    assertThat(pool.available()).as("refilled after use").isEqualTo(2);
  }

  @Test
  void theAlgorithmsAndTheirOrderAreMinasDefaults() {
    List<String> ours = new ArrayList<>();
    for (KeyExchangeFactory f : PrecomputedKeyExchange.clientKeyExchanges(DIRECT, 1)) {
      ours.add(f.getName());
    }
    List<String> defaults = new ArrayList<>();
    for (KeyExchangeFactory f : ClientBuilder.setUpDefaultKeyExchanges(true)) {
      defaults.add(f.getName());
    }
    assertThat(ours).isEqualTo(defaults);
    assertThat(ours.get(0)).startsWith("sntrup761x25519");
  }
}
