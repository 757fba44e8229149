package io.workerpools.ssh.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.client.ClientBuilder;
import org.apache.sshd.client.kex.DHGClient;
import org.apache.sshd.common.digest.BuiltinDigests;
import org.apache.sshd.common.digest.Digest;
import org.apache.sshd.common.kex.AbstractDH;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.kex.BuiltinKEM;
import org.apache.sshd.common.kex.DHFactory;
import org.apache.sshd.common.kex.KeyEncapsulationMethod;
import org.apache.sshd.common.kex.KeyExchangeFactory;
import org.apache.sshd.common.kex.MontgomeryCurve;
import org.apache.sshd.common.kex.XDH;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MINA's default client key exchanges, with the post-quantum hybrid {@code sntrup761x25519-sha512}
 * (OpenSSH's default since 9.0) made cheap: the client's one-time sntrup761 key pair, whose
 * generation in pure Java (BouncyCastle) dominates connection setup and used to run on a MINA I/O
 * thread, is generated ahead of time on a background thread. Each pre-generated key pair is used
 * for exactly one key exchange and then dropped, as an ephemeral key must be; only <em>when</em> it
 * is made changes, so the algorithms, their order and what is negotiated with the server stay
 * exactly MINA's defaults.
 */
public final class PrecomputedKeyExchange {
  private static final Logger LOG = LoggerFactory.getLogger(PrecomputedKeyExchange.class);

  private PrecomputedKeyExchange() {}

  /**
   * The client key exchange factories: MINA's defaults, the sntrup761 ones with pre-generated
   * client keys ({@code ready} of them kept at hand, made on {@code background}).
   */
  public static List<KeyExchangeFactory> clientKeyExchanges(Executor background, int ready) {
    KemPool pool = new KemPool(BuiltinKEM.sntrup761, background, ready);
    List<KeyExchangeFactory> out = new ArrayList<>();
    boolean replaced = false;
    for (KeyExchangeFactory f : ClientBuilder.setUpDefaultKeyExchanges(true)) {
      String name = f.getName();
      if (pool.supported()
          && (name.equals(BuiltinDHFactories.sntrup761x25519.getName())
              || name.equals(BuiltinDHFactories.sntrup761x25519_openssh.getName()))) {
        out.add(DHGClient.newFactory(new Sntrup761X25519(name, pool)));
        replaced = true;
      } else {
        out.add(f);
      }
    }
    if (replaced) {
      pool.refill();
    }
    return out;
  }

  /** {@code sntrup761x25519-sha512} as MINA defines it, but with keys from the pool. */
  private static final class Sntrup761X25519 implements DHFactory {
    private final String name;
    private final KemPool pool;

    Sntrup761X25519(String name, KemPool pool) {
      this.name = name;
      this.pool = pool;
    }

    @Override
    public String getName() {
      return name;
    }

    @Override
    public boolean isSupported() {
      return pool.supported();
    }

    @Override
    public boolean isGroupExchange() {
      return false;
    }

    @Override
    public AbstractDH create(Object... params) throws Exception {
      if (params != null && params.length > 0) {
        throw new IllegalArgumentException("No accepted parameters for " + name);
      }
      return new XDH(MontgomeryCurve.x25519, true) {
        @Override
        public KeyEncapsulationMethod getKeyEncapsulation() {
          return pool;
        }

        @Override
        public Digest getHash() {
          return BuiltinDigests.sha512.create();
        }
      };
    }
  }

  /** Hands out KEM clients whose key pair is already made; makes more in the background. */
  static final class KemPool implements KeyEncapsulationMethod {
    private final BuiltinKEM kem;
    private final Executor background;
    private final int target;
    private final ConcurrentLinkedQueue<KeyEncapsulationMethod.Client> ready =
        new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicBoolean filling = new AtomicBoolean();

    KemPool(BuiltinKEM kem, Executor background, int target) {
      this.kem = kem;
      this.background = background;
      this.target = target;
    }

    boolean supported() {
      return kem.isSupported() && MontgomeryCurve.x25519.isSupported();
    }

    @Override
    public KeyEncapsulationMethod.Client getClient() {
      KeyEncapsulationMethod.Client c = ready.poll();
      if (c != null) {
        size.decrementAndGet();
      }
      refill();
      // None at hand (a burst of connections): made now, as MINA would.
      return c != null ? c : kem.getClient();
    }

    @Override
    public KeyEncapsulationMethod.Server getServer() {
      return kem.getServer();
    }

    /** How many pre-made clients are at hand (tests). */
    int available() {
      return size.get();
    }

    void refill() {
      if (size.get() >= target || !filling.compareAndSet(false, true)) {
        return;
      }
      try {
        background.execute(
            () -> {
              try {
                while (size.get() < target) {
                  KeyEncapsulationMethod.Client c = kem.getClient();
                  c.init();
                  ready.add(new Initialized(c));
                  size.incrementAndGet();
                }
              } catch (RuntimeException e) {
                LOG.debug("could not pre-generate an sntrup761 key pair", e);
              } finally {
                filling.set(false);
              }
            });
      } catch (RejectedExecutionException e) {
        filling.set(false); // Shutting down.
      }
    }
  }

  /** A KEM client initialised ahead of time: {@code init()} was already done. */
  private static final class Initialized implements KeyEncapsulationMethod.Client {
    private final KeyEncapsulationMethod.Client c;

    Initialized(KeyEncapsulationMethod.Client c) {
      this.c = c;
    }

    @Override
    public void init() {
      // Done when it was made.
    }

    @Override
    public byte[] getPublicKey() {
      return c.getPublicKey();
    }

    @Override
    public byte[] extractSecret(byte[] encapsulated) {
      return c.extractSecret(encapsulated);
    }

    @Override
    public int getEncapsulationLength() {
      return c.getEncapsulationLength();
    }
  }
}
