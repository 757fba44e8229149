package io.workerpools.benchmarks;

import io.workerpools.tentacle.TentacleAgent;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.internal.ListeningPool;
import io.workerpools.tentacle.internal.Messages;
import io.workerpools.tentacle.internal.PeerConnection;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.tentacle.internal.PollingListener;
import io.workerpools.tentacle.internal.Wire;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
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
 * B5 and B6: small calls to a Tentacle agent on 127.0.0.1 over mutual TLS 1.3.
 *
 * <ul>
 *   <li>{@code tcpRoundTripBaseline}: one byte there and back over plain loopback TCP (the floor).
 *   <li>{@code listeningPooledPing}: one {@code ping} request/reply over a pooled TLS connection.
 *   <li>{@code fullHandshake} / {@code resumedHandshake}: connect, TLS handshake and preamble, with
 *       a context whose session is invalidated after each connection (nothing to resume) or the
 *       pool's (session resumed if JSSE can).
 *   <li>{@code pollingPing}: a {@code ping} queued for a polling agent that waits on an idle
 *       connection, until its reply is back (enqueue → agent has it is about half of this).
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar TentacleCalls -f 1 -wi 2 -i 3}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class TentacleCallsBenchmark {
  private static final byte[] PING = Wire.request("ping", new Messages.Empty());

  private Path home;
  private TentacleCertificate host;
  private TentacleAgent agent;
  private TentacleAgent pollingAgent;
  private ListeningPool pool;
  private PeerConnection pooled;
  private InetSocketAddress agentAddress;
  private ServerSocket echoServer;
  private Socket echoClient;
  private PollingListener polling;
  private ExecutorService io;
  private ScheduledExecutorService timer;
  private SSLContext fullContext;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    home = Files.createTempDirectory("tentacle-bench");
    host = TentacleCertificate.generate("bench-host");
    agent =
        TentacleAgent.builder(home.resolve("listening"))
            .trust(host.thumbprint())
            .listen("127.0.0.1", 0)
            .start();
    agentAddress = agent.listeningAddress();
    pool = new ListeningPool(host, Duration.ofSeconds(10), Duration.ofSeconds(5), 8, 1 << 24);
    pooled = pool.acquire(agentAddress, agent.thumbprint());
    fullContext = PinnedTls.context(host, () -> Set.of(agent.thumbprint()));

    echoServer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread echo =
        new Thread(
            () -> {
              try (Socket s = echoServer.accept()) {
                s.setTcpNoDelay(true);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                int b;
                while ((b = in.read()) >= 0) {
                  out.write(b);
                  out.flush();
                }
              } catch (IOException e) {
                // benchmark over
              }
            },
            "echo");
    echo.setDaemon(true);
    echo.start();
    echoClient = new Socket(InetAddress.getLoopbackAddress(), echoServer.getLocalPort());
    echoClient.setTcpNoDelay(true);

    io = Executors.newFixedThreadPool(8);
    timer = Executors.newSingleThreadScheduledExecutor();
    polling =
        new PollingListener(
            host,
            new InetSocketAddress("127.0.0.1", 0),
            io,
            timer,
            Duration.ofSeconds(30),
            1 << 24);
    TentacleCertificate pc =
        TentacleCertificate.loadOrCreate(home.resolve("polling").resolve("certificate"), "p");
    polling.bind("bench", pc.thumbprint());
    pollingAgent =
        TentacleAgent.builder(home.resolve("polling"))
            .trust(host.thumbprint())
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
            .poll(polling.address(), "bench", 2)
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (polling.idleConnections("bench") < 2 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    pooled.close();
    pool.close();
    echoClient.close();
    echoServer.close();
    pollingAgent.close();
    polling.close();
    io.shutdownNow();
    timer.shutdownNow();
    agent.close();
  }

  @Benchmark
  public int tcpRoundTripBaseline() throws IOException {
    echoClient.getOutputStream().write(1);
    return echoClient.getInputStream().read();
  }

  @Benchmark
  public byte[] listeningPooledPing() throws IOException {
    return pooled.exchange(PING, Duration.ofSeconds(10));
  }

  @Benchmark
  public boolean fullHandshake() throws IOException {
    // Its own context, and the session invalidated after each connection: nothing to resume.
    PeerConnection c =
        PeerConnection.open(
            fullContext, agentAddress, host.thumbprint(), Duration.ofSeconds(10), 1 << 20);
    c.session().invalidate();
    c.close();
    return c.isClosed();
  }

  @Benchmark
  public boolean resumedHandshake() throws IOException {
    PeerConnection c =
        PeerConnection.open(
            pool.context(agent.thumbprint()),
            agentAddress,
            host.thumbprint(),
            Duration.ofSeconds(10),
            1 << 20);
    c.close();
    return c.isClosed();
  }

  @Benchmark
  public byte[] pollingPing() throws Exception {
    return polling
        .send("bench", PING, Duration.ofSeconds(10), Duration.ofSeconds(10))
        .reply()
        .get(10, TimeUnit.SECONDS);
  }
}
