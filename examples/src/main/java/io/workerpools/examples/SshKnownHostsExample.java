package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.ssh.SshCredentialProvider;
import io.workerpools.ssh.SshCredentials;
import io.workerpools.ssh.SshEndpoint;
import io.workerpools.ssh.SshTransport;
import io.workerpools.transport.ScriptRequest;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * SSH workers verified against a known-hosts file. The host key of every SSH worker is checked:
 * against an OpenSSH {@code known_hosts} file (endpoint property {@code knownHosts}) or a pinned
 * fingerprint ({@code hostKey}); a server whose key is not there is refused with its fingerprint
 * and the command that would trust it. Credentials are referred to by id and supplied by the host's
 * {@link SshCredentialProvider} (from its vault), never stored with the worker.
 *
 * <pre>
 * ssh-keyscan -p 22 build-1.internal >> known_hosts     # after checking the fingerprint!
 * java -cp examples/target/workerpools-demo.jar io.workerpools.examples.SshKnownHostsExample \
 *     build-1.internal:22 deploy known_hosts ~/.ssh/id_ed25519
 * </pre>
 *
 * <p>Its test runs it against a real OpenSSH {@code sshd} on 127.0.0.1.
 */
public final class SshKnownHostsExample {
  private SshKnownHostsExample() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: SshKnownHostsExample HOST:PORT USER KNOWN_HOSTS PRIVATE_KEY");
      System.exit(2);
    }
    StepResult r = run(args[0], args[1], Path.of(args[2]), Path.of(args[3]), System.out);
    System.exit(r.succeeded() ? 0 : 1);
  }

  /**
   * Puts an SSH worker in the default pool and runs a step on it; then shows what happens to a
   * worker whose known-hosts file does not list the server.
   */
  public static StepResult run(
      String address, String user, Path knownHosts, Path privateKey, PrintStream out)
      throws Exception {
    // The host's credential store: here one key file, under the id the endpoints use.
    SshCredentialProvider credentials =
        (id, worker) -> {
          if (!id.equals("deploy-key")) {
            throw new IllegalArgumentException("no credentials with id '" + id + "'");
          }
          return SshCredentials.privateKeyFile(privateKey);
        };
    try (WorkerPools pools =
        WorkerPools.builder().transport(SshTransport.builder(credentials).build()).build()) {
      Worker build1 =
          SshTransport.bashWorker("build-1") // SSH workers run bash only
              .endpoint(
                  Endpoint.of(
                      SshEndpoint.KIND,
                      address,
                      Map.of(
                          SshEndpoint.USER,
                          user,
                          SshEndpoint.KNOWN_HOSTS,
                          knownHosts.toString(),
                          SshEndpoint.CREDENTIALS,
                          "deploy-key")))
              .pool("default") // one worker in the default pool: nothing runs on this host now
              .build();
      pools.store().putWorker(build1);
      HealthReport h =
          pools.health().check(build1.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
      out.println("build-1: " + h.status() + " " + h.message());

      StepResult r =
          pools.run(
              Step.builder(
                      "deploy",
                      ScriptRequest.builder(
                              ScriptSyntax.BASH, "echo \"deploying $1 as $(id -un) over SSH\"")
                          .argument("web-app v2")
                          .build())
                  .build(), // no pool named: the default pool, where build-1 is
              l -> out.println("  " + l.prefixedText()));
      out.println(
          "step deploy: " + r.status() + " on " + r.worker().map(Object::toString).orElse("-"));

      // The same server, but a known-hosts file that does not list it: refused, never trusted.
      Path empty = Files.createTempFile("known_hosts-empty", "");
      try {
        pools.store().putPool(WorkerPool.of("untrusted", "Untrusted"));
        Worker stranger =
            SshTransport.bashWorker("stranger")
                .endpoint(
                    Endpoint.of(
                        SshEndpoint.KIND,
                        address,
                        Map.of(
                            SshEndpoint.USER,
                            user,
                            SshEndpoint.KNOWN_HOSTS,
                            empty.toString(),
                            SshEndpoint.CREDENTIALS,
                            "deploy-key")))
                .pool("untrusted")
                .build();
        pools.store().putWorker(stranger);
        HealthReport refused =
            pools.health().check(stranger.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        out.println("stranger: " + refused.status() + " " + refused.message());
      } finally {
        Files.deleteIfExists(empty);
      }
      return r;
    }
  }
}
