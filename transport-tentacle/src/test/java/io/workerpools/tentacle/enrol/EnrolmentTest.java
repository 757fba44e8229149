package io.workerpools.tentacle.enrol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.model.Endpoint;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.AgentTrust;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19 part 2 (and issue 21's self-enrolment): an agent process enrols with a one-time token
 * passed by file, over real TLS; the host records it in the token's pool with its thumbprint
 * pinned, the agent pins the host from the token and then polls with its stored trust alone. A
 * replayed, expired or wrong-pool token is refused with its reason; strangers learn nothing and are
 * cut off after a few failures.
 */
class EnrolmentTest {
  static final TentacleCertificate HOST = TentacleCertificate.generate("enrol-host");
  static final PoolId LINUX = PoolId.of("linux");

  /** A clock the test moves. */
  static final class MovableClock extends Clock {
    volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }
  }

  @TempDir Path dir;
  final MovableClock clock = new MovableClock();
  InMemoryInfrastructureStore store;
  TentacleTransport transport;
  EnrolmentTokens tokens;
  EnrolmentListener listener;

  @BeforeEach
  void host() {
    store =
        new InMemoryInfrastructureStore(
            Infrastructure.initial().withPool(WorkerPool.of("linux", "Linux")));
    transport =
        TentacleTransport.builder(HOST)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .collectTimeout(Duration.ofSeconds(10))
            .build();
    tokens = EnrolmentTokens.create(HOST.thumbprint(), new EnrolmentTokenStore.InMemory(), clock);
    listener =
        EnrolmentListener.builder(HOST, tokens, EnrolmentListener.recordingIn(store, transport))
            .failureLimits(3, 100)
            .clock(clock)
            .start();
  }

  @AfterEach
  void stop() {
    listener.close();
    transport.close();
  }

  private Path tokenFile(String text) throws Exception {
    Path f = dir.resolve("token-" + System.nanoTime());
    Files.createFile(
        f,
        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    Files.writeString(f, text + "\n");
    return f;
  }

  private AgentProcess enrolProcess(Path home, Path tokenFile, String... pool) {
    List<String> cmd = new ArrayList<>(AgentProcess.classpath());
    cmd.set(cmd.size() - 1, EnrolAgent.class.getName());
    List<String> args = new ArrayList<>();
    args.add("127.0.0.1:" + listener.address().getPort());
    args.add("127.0.0.1:" + transport.pollingAddress().getPort());
    args.add(tokenFile.toString());
    args.addAll(List.of(pool));
    return AgentProcess.start(cmd, home, args);
  }

  private AgentEnrolment inProcess(Path home, String tokenText) {
    return AgentEnrolment.builder(home, listener.address(), tokenText).timeout(seconds(10));
  }

  @Test
  void anAgentProcessEnrolsIsRecordedInItsPoolPinnedAndRunsAStepWithStoredTrustAlone()
      throws Exception {
    EnrolmentToken token = tokens.issue(LINUX, Duration.ofMinutes(10));
    assertThat(token.toString()).doesNotContain(token.text().split("\\.")[2]);
    Path home = dir.resolve("agent");
    try (AgentProcess agent = enrolProcess(home, tokenFile(token.text()), "linux")) {
      Worker w = store.infrastructure().workersIn(LINUX).stream().findFirst().orElseThrow();
      assertThat(w.endpoint().kind()).isEqualTo(TentacleTransport.POLLING);
      assertThat(w.endpoint().properties().get("thumbprint")).isEqualTo(agent.thumbprint());
      assertThat(w.labels()).containsEntry("enrolled-with-token", token.id());
      assertThat(AgentTrust.of(home).thumbprints()).containsExactly(HOST.thumbprint());
      List<LogLine> lines = new CopyOnWriteArrayList<>();
      ScriptResult r =
          transport
              .start(w, ScriptRequest.bash("echo enrolled"), lines::add)
              .result()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertThat(r.succeeded()).isTrue();
      assertThat(lines).extracting(LogLine::text).containsExactly("enrolled");
      String secret = token.text().split("\\.")[2];
      assertThat(agent.output()).noneMatch(l -> l.contains(secret));
      assertThat(agent.process().info().arguments().orElse(new String[0]))
          .noneMatch(a -> a.contains(secret));

      // Replayed by another agent (another certificate): refused, saying why.
      assertThatThrownBy(() -> enrolProcess(dir.resolve("thief"), tokenFile(token.text())))
          .hasMessageContaining(
              "refused: the host refused the enrolment: the enrolment token "
                  + token.id()
                  + " was already used");
      assertThat(store.infrastructure().workersIn(LINUX)).hasSize(1);
    }
  }

  @Test
  void anExpiredOrWrongPoolTokenIsRefusedWithItsReasonAndTheSameAgentMayRetryItsOwn()
      throws Exception {
    EnrolmentToken expired = tokens.issue(LINUX, Duration.ofMinutes(1));
    EnrolmentToken fresh = tokens.issue(LINUX, Duration.ofMinutes(30));
    clock.advance(Duration.ofMinutes(2));
    assertThatThrownBy(() -> inProcess(dir.resolve("a"), expired.text()).enrol())
        .isInstanceOf(AgentEnrolment.RefusedException.class)
        .hasMessageContaining("the enrolment token " + expired.id() + " expired at");
    assertThatThrownBy(() -> inProcess(dir.resolve("a"), fresh.text()).pool("windows").enrol())
        .isInstanceOf(AgentEnrolment.RefusedException.class)
        .hasMessageContaining("is for pool 'linux', not 'windows'");
    clock.advance(Duration.ofMinutes(1)); // a new failure window: the limit is not in play
    AgentEnrolment.Result first = inProcess(dir.resolve("a"), fresh.text()).enrol();
    AgentEnrolment.Result again = inProcess(dir.resolve("a"), fresh.text()).enrol();
    assertThat(again.workerId()).as("a retry by the same agent").isEqualTo(first.workerId());
    assertThat(store.infrastructure().worker(WorkerId.of(first.workerId()))).isPresent();
  }

  @Test
  void strangersLearnNothingAndAreCutOffAfterTheFailureLimitEvenWithAValidToken() throws Exception {
    EnrolmentToken token = tokens.issue(LINUX);
    String[] p = token.text().split("\\.");
    String wrongSecret = p[0] + "." + p[1] + "." + "A".repeat(43) + "." + p[3];
    String unknownId = p[0] + "." + "0123456789abcdef" + "." + p[2] + "." + p[3];
    Path home = dir.resolve("probe");
    // The host's log (slf4j-simple writes to System.err) is read for secrets below.
    java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
    java.io.PrintStream err = System.err;
    System.setErr(new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      refusedThenAccepted(token, wrongSecret, unknownId, home);
    } finally {
      System.setErr(err);
    }
    String hostLog = log.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(hostLog).contains("refused an enrolment from").contains("enrolled worker");
    assertThat(hostLog).doesNotContain(p[2]).doesNotContain("A".repeat(43));
  }

  private void refusedThenAccepted(
      EnrolmentToken token, String wrongSecret, String unknownId, Path home) {
    String a = catchMessage(() -> inProcess(home, wrongSecret).enrol());
    String b = catchMessage(() -> inProcess(home, unknownId).enrol());
    assertThat(a).as("a wrong secret and an unknown id get one answer").isEqualTo(b);
    assertThat(a).contains(EnrolmentTokens.NOT_VALID);
    catchMessage(() -> inProcess(home, wrongSecret).enrol());
    // Three failures from this address: the valid token is refused unheard.
    assertThat(catchMessage(() -> inProcess(home, token.text()).enrol()))
        .contains("too many failed enrolments");
    assertThat(listener.enrolled()).isZero();
    assertThat(listener.refused()).isEqualTo(4);
    clock.advance(Duration.ofMinutes(1));
    assertThat(inProcess(home, token.text()).enrol().pool()).isEqualTo("linux");
  }

  @Test
  void aTokenNamingAnotherHostSendsNothingToAnImpostor() throws Exception {
    EnrolmentToken token = tokens.issue(LINUX);
    String other = TentacleCertificate.generate("impostor").thumbprint();
    String text = token.text().substring(0, token.text().lastIndexOf('.') + 1) + other;
    assertThatThrownBy(() -> inProcess(dir.resolve("x"), text).enrol())
        .hasMessageContaining("is not the one the enrolment token names")
        .hasMessageContaining("nothing was sent");
    assertThat(listener.enrolled()).isZero();
    assertThat(AgentTrust.of(dir.resolve("x")).thumbprints()).isEmpty();
    // The token was never presented, so it still works for the real host.
    assertThat(inProcess(dir.resolve("x"), token.text()).enrol().pool()).isEqualTo("linux");
  }

  @Test
  void aListeningAgentEnrolsAtItsAddressAndPortAndServesTheHostWithStoredTrustAlone()
      throws Exception {
    Path home = dir.resolve("listening");
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    AgentEnrolment.Result r =
        inProcess(home, tokens.issue(LINUX).text()).name("lw-1").listening(port).enrol();
    assertThat(r.subscription()).isEmpty();
    Worker w = store.infrastructure().worker(WorkerId.of("lw-1")).orElseThrow();
    assertThat(w.endpoint().kind()).isEqualTo(TentacleTransport.LISTENING);
    assertThat(w.endpoint().address()).isEqualTo("https://127.0.0.1:" + port);
    assertThat(w.endpoint().properties().get("thumbprint")).isEqualTo(r.agentThumbprint());
    try (io.workerpools.tentacle.TentacleAgent agent =
        io.workerpools.tentacle.TentacleAgent.builder(home).listen("127.0.0.1", port).start()) {
      List<LogLine> lines = new CopyOnWriteArrayList<>();
      assertThat(
              transport
                  .start(w, ScriptRequest.bash("echo listening"), lines::add)
                  .result()
                  .toCompletableFuture()
                  .get(30, TimeUnit.SECONDS)
                  .succeeded())
          .isTrue();
      assertThat(lines).extracting(LogLine::text).containsExactly("listening");
    }
  }

  @Test
  void handRegistrationKeepsWorkingBesideEnrolment() {
    String thumb = TentacleCertificate.generate("by-hand").thumbprint();
    store.putWorker(
        Worker.builder("by-hand")
            .pool(LINUX)
            .endpoint(
                Endpoint.of(
                    TentacleTransport.POLLING,
                    "poll://by-hand",
                    java.util.Map.of("thumbprint", thumb)))
            .build());
    transport.registerPollingAgent("by-hand", thumb);
    assertThatThrownBy(
            () ->
                EnrolmentListener.recordingIn(store, transport)
                    .register(
                        new EnrolmentListener.Enrolment(
                            "0123456789abcdef",
                            LINUX,
                            TentacleCertificate.generate("other").thumbprint(),
                            "by-hand",
                            java.util.Optional.empty())))
        .hasMessageContaining("a worker named 'by-hand' is already registered");
  }

  private static String catchMessage(Runnable r) {
    try {
      r.run();
      throw new AssertionError("expected a refusal");
    } catch (AgentEnrolment.RefusedException e) {
      return e.getMessage();
    }
  }

  private static Duration seconds(int s) {
    return Duration.ofSeconds(s);
  }
}
