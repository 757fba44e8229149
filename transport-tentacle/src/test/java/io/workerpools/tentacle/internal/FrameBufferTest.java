package io.workerpools.tentacle.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, defect 2 (buffers): a frame's buffer grows as its bytes arrive, so a peer that
 * announces 16 MiB and sends ten bytes costs kilobytes, not 16 MiB. In-process: only the JVM can
 * count a thread's allocations.
 */
class FrameBufferTest {
  @Test
  void anAnnouncedButUnsentFrameIsNotAllocatedUpFront() {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    byte[] wire = new byte[4 + 10];
    wire[0] = 0x00;
    wire[1] = (byte) 0xff; // 16 MiB - 1 announced
    wire[2] = (byte) 0xff;
    wire[3] = (byte) 0xff;
    long tid = Thread.currentThread().getId();
    long before = mx.getThreadAllocatedBytes(tid);
    assertThatThrownBy(() -> Frames.read(new ByteArrayInputStream(wire), 16 * 1024 * 1024))
        .isInstanceOf(ProtocolViolationException.class)
        .hasMessageContaining("truncated frame");
    long allocated = mx.getThreadAllocatedBytes(tid) - before;
    assertThat(allocated).isLessThan(2L * 1024 * 1024);
  }

  @Test
  void aFullFrameStillArrivesWhole() throws Exception {
    int len = 1_000_000;
    byte[] wire = new byte[4 + len];
    wire[1] = (byte) (len >>> 16);
    wire[2] = (byte) (len >>> 8);
    wire[3] = (byte) len;
    for (int i = 0; i < len; i++) {
      wire[4 + i] = (byte) i;
    }
    byte[] got = Frames.read(new ByteArrayInputStream(wire), 16 * 1024 * 1024);
    assertThat(got).hasSize(len);
    assertThat(got[len - 1]).isEqualTo((byte) (len - 1));
  }
}
