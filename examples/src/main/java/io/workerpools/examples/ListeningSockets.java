package io.workerpools.examples;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A process's TCP sockets, from {@code /proc} (Linux): which of them listen, and which are
 * connections (with their local and remote ports). Used to show that a polling agent binds no port
 * at all: nothing can dial in to it.
 */
final class ListeningSockets {
  /** One TCP socket of the process. */
  record TcpSocket(int localPort, int remotePort, boolean listening) {}

  /** What an attempt to connect to one of the process's ports gave. */
  record Dial(int port, boolean refused, String outcome) {}

  private ListeningSockets() {}

  /** The process's TCP sockets (IPv4 and IPv6), matched by inode to its open descriptors. */
  static List<TcpSocket> of(long pid) throws IOException {
    Set<String> inodes = new HashSet<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", pid + "", "fd"))) {
      for (Path fd : fds) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[") && target.endsWith("]")) {
            inodes.add(target.substring(8, target.length() - 1));
          }
        } catch (IOException e) {
          // closed while we listed it
        }
      }
    }
    List<TcpSocket> sockets = new ArrayList<>();
    for (String table : List.of("tcp", "tcp6")) {
      Path p = Path.of("/proc", pid + "", "net", table);
      if (!Files.exists(p)) {
        continue;
      }
      List<String> lines = Files.readAllLines(p, StandardCharsets.US_ASCII);
      for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
        String[] f = line.trim().split("\\s+");
        if (f.length > 9 && inodes.contains(f[9])) {
          sockets.add(new TcpSocket(port(f[1]), port(f[2]), f[3].equals("0A")));
        }
      }
    }
    return sockets;
  }

  private static int port(String hexAddress) {
    return Integer.parseInt(hexAddress.substring(hexAddress.lastIndexOf(':') + 1), 16);
  }

  /** Tries to connect to 127.0.0.1:{@code port} (2 s at most). */
  static Dial dial(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      return new Dial(port, false, "connected");
    } catch (java.net.ConnectException e) {
      return new Dial(port, true, "refused (" + e.getMessage() + ")");
    } catch (IOException e) {
      return new Dial(port, false, e.toString());
    }
  }
}
