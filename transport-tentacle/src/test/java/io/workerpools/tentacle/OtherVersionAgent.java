package io.workerpools.tentacle;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Test only: an agent process that speaks other protocol versions than this build, to run two
 * versions side by side. It lives in the test sources and uses a package-private builder switch, so
 * a release build cannot enable it. Arguments (after {@link AgentProcess#start}'s {@code --home
 * DIR}): {@code MIN MAX listen TRUST} or {@code MIN MAX poll TRUST HOST:PORT SUBSCRIPTION}. Prints
 * the start lines {@link AgentProcess} reads.
 */
public final class OtherVersionAgent {
  private OtherVersionAgent() {}

  /** Entry point. */
  public static void main(String[] args) throws InterruptedException {
    Path home = Path.of(args[1]);
    TentacleAgent.Builder b =
        TentacleAgent.builder(home)
            .protocolVersions(Integer.parseInt(args[2]), Integer.parseInt(args[3]))
            .trust(args[5])
            .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500));
    if (args[4].equals("listen")) {
      b.listen("127.0.0.1", 0);
    } else {
      String[] hp = args[6].split(":");
      b.poll(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), args[7], 1);
    }
    TentacleAgent agent = b.start();
    System.out.println("thumbprint: " + agent.thumbprint());
    if (args[4].equals("listen")) {
      System.out.println("listening on 127.0.0.1:" + agent.listeningAddress().getPort());
    } else {
      System.out.println("polling " + args[6] + " as " + args[7]);
    }
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
