package io.workerpools.tentacle.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.workerpools.tentacle.TentacleCertificate;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code show-thumbprint}: the certificate's thumbprint, as text or JSON. */
@Command(
    name = "show-thumbprint",
    mixinStandardHelpOptions = true,
    description = {
      "Prints the thumbprint of the agent's certificate (64 hex digits) and nothing else, or a"
          + " JSON object {\"thumbprint\": ...} with --json. Creates nothing: fails (exit 1) if"
          + " the home has no certificate yet (see new-certificate)."
    })
final class ShowThumbprintCommand implements Callable<Integer> {
  @Mixin Invocation invocation;

  @Option(names = "--json", description = "print a JSON object")
  boolean json;

  @Option(
      names = "--format",
      paramLabel = "text|json",
      description = "the output format (as Tentacle's --format); --json is short for json")
  String format;

  @Override
  public Integer call() throws IOException {
    if (format != null && !format.equalsIgnoreCase("text") && !format.equalsIgnoreCase("json")) {
      throw new picocli.CommandLine.ParameterException(
          invocation.spec().commandLine(),
          "Invalid value for option '--format': '" + format + "' (use text or json)");
    }
    Path home = invocation.home();
    Path cert = home.resolve("certificate").resolve(TentacleCertificate.CERT_FILE);
    if (!AgentHome.checkExisting(home) || !Files.exists(cert)) {
      invocation
          .err()
          .println(
              "error: the agent's home "
                  + home
                  + " has no certificate yet; create it with 'new-certificate'");
      return Cli.FAILED;
    }
    String t =
        TentacleCertificate.loadOrCreate(cert.getParent(), NewCertificateCommand.NAME).thumbprint();
    if (json || "json".equalsIgnoreCase(format)) {
      StringWriter w = new StringWriter();
      try (JsonGenerator g = new JsonFactory().createGenerator(w)) {
        g.writeStartObject();
        g.writeStringField("thumbprint", t);
        g.writeEndObject();
      }
      invocation.out().println(w);
    } else {
      invocation.out().println(t);
    }
    return Cli.OK;
  }
}
