package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.tentacle.internal.PollingListener;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, defect 9: a request that makes the agent throw a runtime exception (here a start whose
 * environment holds a JSON null, which a buggy host can send) must neither kill the polling
 * connection's thread (the agent process has one connection: it would never poll again) nor leave
 * the run PENDING.
 */
class PollingRobustnessTest {
  @TempDir Path home;
  ExecutorService io;
  ScheduledExecutorService timer;
  PollingListener listener;
  AgentProcess agent;

  @BeforeEach
  void start() {
    io = Executors.newFixedThreadPool(4);
    timer = Executors.newSingleThreadScheduledExecutor();
    listener =
        new PollingListener(
            HOST,
            new InetSocketAddress("127.0.0.1", 0),
            io,
            timer,
            Duration.ofSeconds(30),
            1 << 20);
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    listener.close();
    io.shutdownNow();
    timer.shutdownNow();
  }

  private String call(String json) throws Exception {
    byte[] reply =
        listener
            .send(
                "sub-x",
                json.getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(15),
                Duration.ofSeconds(10))
            .reply()
            .get(30, TimeUnit.SECONDS);
    return new String(reply, StandardCharsets.UTF_8);
  }

  @Test
  void aRequestThatMakesTheAgentThrowIsAnsweredAndTheOnlyPollingConnectionGoesOn()
      throws Exception {
    String thumb = TentacleCertificate.loadOrCreate(home.resolve("certificate"), "a").thumbprint();
    listener.bind("sub-x", thumb);
    agent = AgentProcess.poll(home, HOST.thumbprint(), listener.address(), "sub-x", 1);
    String start =
        "{\"type\":\"script.start\",\"body\":{\"ticket\":\"npe-1\",\"syntax\":\"BASH\","
            + "\"body\":\"echo hi\",\"arguments\":[],\"environment\":{\"A\":null},"
            + "\"sensitiveValues\":[],\"files\":[],\"timeoutMillis\":0,\"isolation\":\"NONE\","
            + "\"mutexName\":\"default\",\"mutexTimeoutMillis\":1000,\"waitForMillis\":0}}";
    String reply = call(start);
    assertThat(reply).contains("\"type\":\"script.start\"");
    // The same (only) connection still serves, and the run is not left PENDING.
    String ping = call("{\"type\":\"ping\",\"body\":{}}");
    assertThat(ping).contains("\"error\":null");
    String status =
        call(
            "{\"type\":\"script.status\",\"body\":{\"ticket\":\"npe-1\",\"afterSequence\":0,"
                + "\"waitForMillis\":0}}");
    assertThat(status).doesNotContain("\"state\":\"PENDING\"").doesNotContain("\"RUNNING\"");
    assertThat(agent.process().isAlive()).isTrue();
  }
}
