package io.workerpools.tentacle.cli;

import io.workerpools.tentacle.TentacleCertificate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code new-certificate}: the agent's certificate in its home (Tentacle's name). */
@Command(
    name = "new-certificate",
    aliases = "cert",
    mixinStandardHelpOptions = true,
    description = {
      "Creates the agent's certificate in HOME/certificate (0600 files in a 0700 directory) if it"
          + " has none, and prints its thumbprint: the host registers the agent by it.",
      "An existing certificate is kept unless --replace is given."
    })
final class NewCertificateCommand implements Callable<Integer> {
  @Mixin Invocation invocation;

  @Option(
      names = "--replace",
      description =
          "make a new certificate even if one exists: hosts that pinned the old thumbprint stop"
              + " trusting this agent until they register the new one")
  boolean replace;

  @Override
  public Integer call() throws IOException {
    Path home = invocation.prepareHome();
    Path dir = home.resolve("certificate");
    String old = null;
    if (Files.exists(dir.resolve(TentacleCertificate.CERT_FILE))) {
      old = TentacleCertificate.loadOrCreate(dir, NAME).thumbprint();
      if (replace) {
        Files.deleteIfExists(dir.resolve(TentacleCertificate.KEY_FILE));
        Files.deleteIfExists(dir.resolve(TentacleCertificate.CERT_FILE));
      }
    }
    TentacleCertificate c = TentacleCertificate.loadOrCreate(dir, NAME);
    invocation.out().println("thumbprint: " + c.thumbprint());
    if (old != null && !replace) {
      invocation.err().println("kept the existing certificate (--replace makes a new one)");
    } else if (old != null) {
      invocation.err().println("replaced the certificate whose thumbprint was " + old);
    }
    return Cli.OK;
  }

  static final String NAME = "workerpools-agent";
}
