package io.workerpools.tentacle.enrol;

import io.workerpools.tentacle.TentacleAgent;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Test only, until the {@code enrol} command exists: an agent process that enrols with the token in
 * a file (never argv) and then polls with nothing but its stored trust. Arguments after {@code
 * --home DIR}: {@code ENROL_HOST:PORT POLL_HOST:PORT TOKEN_FILE [POOL]}. Prints {@code enrolled as
 * ...}, {@code thumbprint: ...} and {@code polling ...}, or {@code refused: WHY} and exits 3.
 */
public final class EnrolAgent {
  private EnrolAgent() {}

  private static InetSocketAddress address(String hp) {
    int c = hp.lastIndexOf(':');
    return new InetSocketAddress(hp.substring(0, c), Integer.parseInt(hp.substring(c + 1)));
  }

  /** Entry point. */
  public static void main(String[] args) throws Exception {
    Path home = Path.of(args[1]);
    AgentEnrolment e =
        AgentEnrolment.builder(home, address(args[2]), Files.readString(Path.of(args[4])));
    if (args.length > 5) {
      e.pool(args[5]);
    }
    AgentEnrolment.Result r;
    try {
      r = e.polling().enrol();
    } catch (RuntimeException refused) {
      System.out.println("refused: " + refused.getMessage());
      System.out.flush();
      System.exit(3);
      return;
    }
    System.out.println("enrolled as " + r.workerId() + " in " + r.pool());
    TentacleAgent agent =
        TentacleAgent.builder(home)
            .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500))
            .poll(address(args[3]), r.subscription().orElseThrow(), 2)
            .start();
    System.out.println("thumbprint: " + agent.thumbprint());
    System.out.println("polling " + args[3] + " as " + r.subscription().get());
    System.out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  agent.close();
                  stopped.countDown();
                }));
    stopped.await();
  }
}
