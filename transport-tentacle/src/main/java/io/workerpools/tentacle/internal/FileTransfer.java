package io.workerpools.tentacle.internal;

import io.workerpools.AuthenticationException;
import io.workerpools.TransportException;
import io.workerpools.model.WorkerId;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

/**
 * File upload and download from the host, over a connection of their own: the announcing message,
 * then chunk frames, then an empty frame. A download is cut the moment the agent sends more than it
 * announced, and every chunk must arrive within the call timeout.
 */
public final class FileTransfer {
  private final Duration callTimeout;

  public FileTransfer(Duration callTimeout) {
    this.callTimeout = callTimeout;
  }

  /** Uploads {@code length} bytes; returns the full path on the agent. */
  public String upload(
      WorkerId workerId, Target t, String path, InputStream content, long length, String sha256) {
    PeerConnection c = null;
    try {
      c = t.direct();
      byte[] announce = Wire.request("files.upload", new Messages.Upload(path, length, sha256));
      c.writeFrame(announce, 0, announce.length);
      byte[] buf = new byte[FileService.CHUNK];
      long sent = 0;
      int n;
      while (sent < length
          && (n = content.readNBytes(buf, 0, (int) Math.min(buf.length, length - sent))) > 0) {
        c.writeFrame(buf, 0, n);
        sent += n;
      }
      byte[] reply = c.exchange(new byte[0], callTimeout); // the empty frame ends the upload
      Wire.Reply r = Wire.decodeReply(reply);
      if (r.error() != null) {
        t.release(c);
        c = null;
        throw new TransportException(workerId, "upload refused: " + r.error(), false, null);
      }
      Messages.FileInfo info = Wire.body(r, Messages.FileInfo.class);
      Replies.check("files.upload", info, null);
      t.release(c);
      c = null;
      return info.fullPath();
    } catch (PeerConnection.PeerAuthenticationFailure e) {
      throw new AuthenticationException(workerId, e.getMessage(), e);
    } catch (IOException e) {
      throw new TransportException(
          workerId, "upload of '" + path + "' failed: " + e.getMessage(), e);
    } finally {
      if (c != null) {
        c.close();
      }
    }
  }

  /** Downloads into {@code out}, checking length and SHA-256; returns the byte count. */
  public long download(WorkerId workerId, Target t, String path, OutputStream out) {
    PeerConnection c = null;
    try {
      c = t.direct();
      byte[] reply =
          c.exchange(Wire.request("files.download", new Messages.Download(path)), callTimeout);
      Wire.Reply r = Wire.decodeReply(reply);
      if (r.error() != null) {
        t.release(c);
        c = null;
        throw new TransportException(workerId, "download refused: " + r.error(), false, null);
      }
      Messages.FileInfo info = Wire.body(r, Messages.FileInfo.class);
      Replies.check("files.download", info, null);
      MessageDigest sha = FileService.sha256();
      long total = 0;
      while (true) {
        byte[] chunk = c.readFrame(callTimeout);
        if (chunk.length == 0) {
          break;
        }
        if (total + chunk.length > info.length()) {
          throw new ProtocolViolationException(
              "the agent sent more than the " + info.length() + " bytes it announced", true);
        }
        sha.update(chunk);
        out.write(chunk);
        total += chunk.length;
      }
      String digest = HexFormat.of().withUpperCase().formatHex(sha.digest());
      if (total != info.length() || !digest.equalsIgnoreCase(info.sha256())) {
        throw new TransportException(
            workerId,
            "download of '"
                + path
                + "' arrived damaged: expected "
                + info.length()
                + " bytes / "
                + info.sha256()
                + ", got "
                + total
                + " / "
                + digest,
            null);
      }
      t.release(c);
      c = null;
      return total;
    } catch (PeerConnection.PeerAuthenticationFailure e) {
      throw new AuthenticationException(workerId, e.getMessage(), e);
    } catch (IOException e) {
      throw new TransportException(
          workerId, "download of '" + path + "' failed: " + e.getMessage(), e);
    } finally {
      if (c != null) {
        c.close();
      }
    }
  }
}
