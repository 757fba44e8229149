package io.workerpools.tentacle.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The rule that separates a refusal from a transport failure during the TLS handshake: only a
 * received certificate alert is a refusal, wherever it sits in the cause chain; a reset, a broken
 * pipe, an end of stream or a timeout never is, and its message names what happened.
 */
class HandshakeFailureClassificationProperties {
  static final Set<String> CERT_ALERTS =
      Set.of("bad_certificate", "certificate_unknown", "unknown_ca", "certificate_required");

  /** One failure as the JDK may report it: a kind, and whether it is a received cert alert. */
  record Failure(String kind, boolean certAlert) {
    IOException create() {
      switch (kind) {
        case "reset":
          return new SocketException("Connection reset");
        case "pipe":
          return new SocketException("Broken pipe");
        case "eof":
          return new EOFException("SSL peer shut down incorrectly");
        case "terminated":
          return new SSLHandshakeException("Remote host terminated the handshake");
        case "timeout":
          return new SocketTimeoutException("Read timed out");
        case "ssl-reset":
          return new SSLException("Connection reset");
        case "handshake_failure":
          return new SSLHandshakeException("Received fatal alert: handshake_failure");
        case "plain-text-mentioning-alert":
          return new IOException("peer said bad_certificate somewhere in a log line");
        default:
          return new SSLHandshakeException("Received fatal alert: " + kind);
      }
    }
  }

  @Provide
  Arbitrary<List<Failure>> chains() {
    Arbitrary<Failure> transport =
        Arbitraries.of(
                "reset",
                "pipe",
                "eof",
                "terminated",
                "timeout",
                "ssl-reset",
                "handshake_failure",
                "plain-text-mentioning-alert")
            .map(k -> new Failure(k, false));
    Arbitrary<Failure> alert = Arbitraries.of(CERT_ALERTS).map(k -> new Failure(k, true));
    return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(4, transport), net.jqwik.api.Tuple.of(1, alert))
        .list()
        .ofMinSize(1)
        .ofMaxSize(4);
  }

  /** Builds the chain: each next failure is the cause of the previous, or suppressed in it. */
  private static IOException build(List<Failure> chain, boolean suppressed) {
    IOException top = chain.get(0).create();
    Throwable at = top;
    for (Failure f : chain.subList(1, chain.size())) {
      IOException next = f.create();
      if (suppressed) {
        at.addSuppressed(next);
      } else {
        at.initCause(next);
      }
      at = next;
    }
    return top;
  }

  @Property(tries = 200)
  void onlyAReceivedCertificateAlertIsARefusal(
      @ForAll("chains") List<Failure> chain, @ForAll boolean suppressed) {
    IOException e = build(chain, suppressed);
    boolean anyAlert = chain.stream().anyMatch(Failure::certAlert);
    assertThat(PinnedTls.refusedByPeer(e)).as("chain %s", chain).isEqualTo(anyAlert);
    if (anyAlert) {
      assertThat(CERT_ALERTS).contains(PinnedTls.alertOf(e));
    } else {
      assertThat(PinnedTls.alertOf(e)).isNull();
    }
  }

  @Property(tries = 200)
  void aTransportFailureDuringTheHandshakeIsNamedAndNeverCalledARefusal(
      @ForAll("chains") List<Failure> chain, @ForAll boolean suppressed) {
    IOException e = build(chain, suppressed);
    String m = PeerConnection.whatHappened(e, true, false, Duration.ofSeconds(3));
    assertThat(m).as("chain %s", chain).contains("TLS handshake").doesNotContain("refused");
    if (chain.get(0).kind().equals("timeout")) {
      assertThat(m).contains("no answer within 3000 ms");
    } else if (chain.stream().map(Failure::kind).anyMatch(k -> k.contains("reset"))) {
      assertThat(m).containsAnyOf("reset", "no answer within");
    }
  }
}
