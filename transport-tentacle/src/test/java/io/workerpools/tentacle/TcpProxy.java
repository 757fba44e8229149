package io.workerpools.tentacle;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 between a host and an agent, for the fault tests: it can cut every open
 * connection, reset every new one, or let its first connections carry only the first bytes of the
 * agent's answer (a piece of the ServerHello) before resetting the client — an agent that crashed
 * in the middle of the handshake, as seen by the host.
 */
final class TcpProxy implements AutoCloseable {
  private final ServerSocket server;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final AtomicInteger answersToCut;
  private final AtomicInteger answersCut = new AtomicInteger();
  private volatile boolean resetNew;

  /** A plain proxy to {@code target}. */
  TcpProxy(InetSocketAddress target) throws IOException {
    this(target, 0);
  }

  /** A proxy whose first {@code cutFirstAnswers} connections are reset mid-answer. */
  TcpProxy(InetSocketAddress target, int cutFirstAnswers) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    answersToCut = new AtomicInteger(cutFirstAnswers);
    Thread acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket client = server.accept();
                  if (resetNew) {
                    client.setSoLinger(true, 0);
                    client.close();
                    continue;
                  }
                  Socket upstream = new Socket(target.getAddress(), target.getPort());
                  sockets.add(client);
                  sockets.add(upstream);
                  boolean cutThis = answersToCut.getAndDecrement() > 0;
                  pump(client, upstream, false);
                  pump(upstream, client, cutThis);
                } catch (IOException e) {
                  return;
                }
              }
            },
            "proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** How many connections were reset mid-answer. */
  int answersCut() {
    return answersCut.get();
  }

  /** Closes every open connection (new ones still go through). */
  void cutAll() {
    sockets.forEach(TcpProxy::closeQuietly);
    sockets.clear();
  }

  /** Closes every open connection and resets every new one from now on. */
  void cutAllAndResetNew() {
    resetNew = true;
    cutAll();
  }

  private void pump(Socket from, Socket to, boolean cutAfterFirstBytes) {
    Thread t =
        new Thread(
            () -> {
              try (InputStream in = from.getInputStream()) {
                OutputStream out = to.getOutputStream();
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) >= 0) {
                  if (cutAfterFirstBytes) {
                    out.write(buf, 0, Math.min(n, 20));
                    out.flush();
                    to.setSoLinger(true, 0);
                    answersCut.incrementAndGet();
                    break;
                  }
                  out.write(buf, 0, n);
                }
              } catch (IOException e) {
                // cut
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // cut anyway
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    cutAll();
  }
}
