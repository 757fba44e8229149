package io.workerpools.benchmarks;

import io.workerpools.tentacle.TentacleAgent;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.internal.PeerConnection;
import io.workerpools.tentacle.internal.PinnedTls;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * B5/B6 (issue 14): the agent's full mutual-TLS handshake (TLS 1.3, pinned thumbprints, handshake
 * budget, preamble) as a ratio to a bare JSSE mutual TLS 1.3 handshake with the same key type
 * (ECDSA P-256 self-signed certificates, PKIX trust of the peer's certificate) on 127.0.0.1, in the
 * same run. Sessions are invalidated after each connection: nothing is resumed.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Fork(1)
@Threads(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class TlsHandshakeBenchmark {
  private Path home;
  private TentacleCertificate host;
  private TentacleAgent agent;
  private SSLContext agentClient;
  private SSLServerSocket bareServer;
  private SSLContext bareClient;

  private static SSLContext bare(TentacleCertificate own, X509Certificate peer) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    char[] pw = "bench".toCharArray();
    ks.setKeyEntry("own", own.privateKey(), pw, new X509Certificate[] {own.certificate()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, pw);
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("peer", peer);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ts);
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    home = Files.createTempDirectory("tls-bench");
    host = TentacleCertificate.generate("bench-host");
    // Trust stored in the home as well (issue 19): each handshake checks the file first.
    io.workerpools.tentacle.AgentTrust.of(home.resolve("agent")).add(host.thumbprint());
    agent =
        TentacleAgent.builder(home.resolve("agent"))
            .trust(host.thumbprint())
            .listen("127.0.0.1", 0)
            .start();
    agentClient = PinnedTls.context(host, () -> Set.of(agent.thumbprint()));

    TentacleCertificate serverCert = TentacleCertificate.generate("bare-server");
    TentacleCertificate clientCert = TentacleCertificate.generate("bare-client");
    bareServer =
        (SSLServerSocket)
            bare(serverCert, clientCert.certificate())
                .getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    bareServer.setNeedClientAuth(true);
    bareServer.setEnabledProtocols(new String[] {"TLSv1.3"});
    bareClient = bare(clientCert, serverCert.certificate());
    Thread t =
        new Thread(
            () -> {
              while (!bareServer.isClosed()) {
                try (SSLSocket s = (SSLSocket) bareServer.accept()) {
                  s.startHandshake();
                  s.getSession().invalidate();
                  InputStream in = s.getInputStream();
                  if (in.read() >= 0) {
                    s.getOutputStream().write(1); // the round trip the agent's preamble makes
                    s.getOutputStream().flush();
                    in.read(); // until the client closes
                  }
                } catch (IOException e) {
                  // next
                }
              }
            },
            "bare-tls-server");
    t.setDaemon(true);
    t.start();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    bareServer.close();
    agent.close();
  }

  @Benchmark
  public boolean bareJsseMutualHandshake() throws IOException {
    SSLSocket s =
        (SSLSocket)
            bareClient
                .getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), bareServer.getLocalPort());
    s.setEnabledProtocols(new String[] {"TLSv1.3"});
    s.setTcpNoDelay(true);
    s.startHandshake();
    // One byte each way: in TLS 1.3 the server checks the client's certificate after the client's
    // side is done, so this round trip (the agent's preamble makes one too) completes mutual
    // authentication on both sides.
    s.getOutputStream().write(1);
    s.getOutputStream().flush();
    s.getInputStream().read();
    s.getSession().invalidate();
    s.close();
    return s.isClosed();
  }

  @Benchmark
  public boolean agentFullHandshake() throws IOException {
    PeerConnection c =
        PeerConnection.open(
            agentClient,
            new java.net.InetSocketAddress("127.0.0.1", agent.listeningAddress().getPort()),
            host.thumbprint(),
            Duration.ofSeconds(10),
            1 << 20);
    c.session().invalidate();
    c.close();
    return c.isClosed();
  }

  /**
   * The stored-trust check each agent handshake makes since issue 19 (a {@code stat} of {@code
   * HOME/trusted-hosts}, re-read only when it changed), to compare with the handshake it is part
   * of, in the same run.
   */
  @Benchmark
  public int storedTrustCheck() {
    return agent.trustedHosts().size();
  }
}
