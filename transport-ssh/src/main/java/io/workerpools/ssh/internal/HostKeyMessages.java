package io.workerpools.ssh.internal;

import io.workerpools.ssh.SshEndpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** What a refused host key's error says: the presented fingerprint, why, and how to fix it. */
final class HostKeyMessages {
  private static final String CHECK_ON_SERVER =
      "check it on the server with: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub";

  private HostKeyMessages() {}

  static String refusal(SshEndpoint ep, List<Path> files, HostKeyVerification.Rejection r) {
    String start =
        "host key verification failed for "
            + ep.hostAndPort()
            + ": the server presented "
            + r.keyType()
            + " key "
            + r.fingerprint();
    String pin =
        "pin it with endpoint property '" + SshEndpoint.HOST_KEY + "' = " + r.fingerprint() + ".";
    String hostEntry = KnownHosts.hostEntryName(ep.host(), ep.port());
    String userFile = ep.knownHosts().map(Path::toString).orElse("?");
    String read = files.stream().map(Path::toString).collect(Collectors.joining(", "));
    return switch (r.reason()) {
      case PIN_MISMATCH ->
          start
              + " but the endpoint pins "
              + r.detail()
              + ". If the server's key was replaced on purpose, set endpoint property '"
              + SshEndpoint.HOST_KEY
              + "' to "
              + r.fingerprint()
              + " ("
              + CHECK_ON_SERVER
              + "). If the pinned key is of another type, give the pin as its public key line"
              + " ('ssh-rsa AAAA...'), so that the server is asked for that type.";
      case REVOKED ->
          start
              + ", which is REVOKED: "
              + r.entry().file()
              + " line "
              + r.entry().line()
              + " marks it @revoked. It must not be trusted; the server must get a new host key.";
      case CHANGED ->
          start.replace(
                  ": the server presented", ": the HOST KEY HAS CHANGED. The server presented")
              + ", which differs from the "
              + r.keyType()
              + " key for "
              + hostEntry
              + " in "
              + r.entry().file()
              + " line "
              + r.entry().line()
              + ". Someone may be intercepting the connection. If the key was replaced on purpose ("
              + CHECK_ON_SERVER
              + "), remove the old entry (ssh-keygen -R '"
              + hostEntry
              + "' -f "
              + r.entry().file()
              + ") and add the new one, or "
              + pin;
      case OTHER_TYPES_KNOWN ->
          start
              + ", a type not in the known-hosts files ("
              + read
              + "), which hold only "
              + r.detail()
              + " keys for "
              + hostEntry
              + " (the server did not offer those types). If the "
              + r.keyType()
              + " key is the server's ("
              + CHECK_ON_SERVER
              + "), add it (ssh-keyscan -t "
              + r.keyType()
              + " -p "
              + ep.port()
              + " "
              + ep.host()
              + " >> "
              + userFile
              + "), or "
              + pin;
      case UNKNOWN ->
          start
              + ", which is not in the known-hosts file "
              + read
              + ". If that is the server's key ("
              + CHECK_ON_SERVER
              + "), add it (ssh-keyscan -p "
              + ep.port()
              + " "
              + ep.host()
              + " >> "
              + userFile
              + "), or "
              + pin;
    };
  }
}
