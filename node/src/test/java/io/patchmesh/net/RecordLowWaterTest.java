package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.Epoll;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordLowWaterTest {
  /** The marks set, in order. */
  final List<Integer> marks = new ArrayList<>();
  final RecordLowWater records = new RecordLowWater((channel, bytes) -> marks.add(bytes));
  final EmbeddedChannel channel = new EmbeddedChannel(records);

  static ByteBuf header(int type, int length) {
    return Unpooled.buffer().writeByte(type).writeShort(0x0303).writeShort(length);
  }

  /** One read: the bytes, then the read's end (where the mark is set). */
  void read(ByteBuf bytes) {
    channel.writeOneInbound(bytes);
    channel.pipeline().fireChannelReadComplete();
    ByteBuf passed;
    while ((passed = channel.readInbound()) != null) {
      passed.release(); // every byte goes on to TLS untouched
    }
  }

  @Test
  void setsNothingUntilTheConnectionCarriesData() {
    read(header(23, 16_000));
    assertEquals(List.of(), marks, "not a data connection yet");
    records.activate(channel);
    channel.runPendingTasks();
    read(Unpooled.wrappedBuffer(new byte[1_000]));
    assertEquals(List.of(15_000), marks, "followed from the first byte: 15,000 of the record's body still to come");
  }

  @Test
  void theMarkIsWhatTheRecordBeingReceivedStillNeeds() {
    records.activate(channel);
    channel.runPendingTasks();
    read(Unpooled.wrappedBuffer(header(23, 16_406), Unpooled.wrappedBuffer(new byte[1_443])));
    assertEquals(14_963, records.mark());
    read(Unpooled.wrappedBuffer(new byte[14_963]));
    assertEquals(1, records.mark(), "at a record boundary any byte wakes the reader");
    // the next record's header arrives in two parts: never more than the rest of the header
    read(Unpooled.wrappedBuffer(new byte[] {23, 3}));
    assertEquals(3, records.mark());
    read(Unpooled.wrappedBuffer(new byte[] {3, 0x10, 0x00}));
    assertEquals(4_096, records.mark());
    // a read that ends a record and starts the next one
    read(Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(new byte[4_096]), header(23, 5_000),
        Unpooled.wrappedBuffer(new byte[10])));
    assertEquals(4_990, records.mark());
    read(Unpooled.wrappedBuffer(new byte[4_990]));
    assertEquals(List.of(14_963, 1, 3, 4_096, 4_990, 1), marks, "set only when it changes");
  }

  @Test
  void bytesThatAreNotTlsRecordsPutTheMarkBackAndStopIt() {
    records.activate(channel);
    channel.runPendingTasks();
    read(Unpooled.wrappedBuffer(header(23, 16_000), Unpooled.wrappedBuffer(new byte[10])));
    assertEquals(15_990, records.mark());
    read(Unpooled.wrappedBuffer(new byte[15_990]));
    read(header(99, 100)); // not a content type of TLS
    assertEquals(1, records.mark());
    read(header(23, 16_000));
    assertEquals(1, records.mark(), "stopped for good");
  }

  @Test
  void aLengthOverTheLargestRecordStopsIt() {
    records.activate(channel);
    channel.runPendingTasks();
    read(header(23, RecordLowWater.MAX_RECORD_BYTES + 1));
    assertEquals(List.of(), marks, "the mark was 1 and stays 1");
  }

  /** The data connection's SO_RCVLOWAT as the kernel has it (read on its event loop). */
  static int kernelMark(PeerLink link) throws Exception {
    return link.data().eventLoop().submit(() -> link.data().config().getOption(RecordLowWater.SO_RCVLOWAT)).get();
  }

  /** Real sockets and TLS: pieces of several records each cross a data connection whose reader sets the mark. */
  @Test
  void piecesCrossARealDataConnectionWithTheMarkSet(@TempDir Path dir) throws Exception {
    assertTrue(Epoll.isAvailable(), "this test needs Netty's epoll transport (Linux)");
    try (MeshFixture mesh = new MeshFixture(dir)) {
      RecordingListener heardByA = new RecordingListener();
      Transport b = mesh.tls("b", "dc", null);
      Transport a = mesh.tls("a", "branch", heardByA);
      PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(5)).until(() -> b.link(a.localId()).isPresent());
      PeerLink ba = b.link(a.localId()).orElseThrow();
      RecordLowWater reader = ab.data().pipeline().get(RecordLowWater.class);
      assertTrue(reader != null, "every TLS connection follows its records");
      Random random = new Random(15);
      for (int i = 0; i < 20; i++) {
        byte[] chunk = new byte[20_000 + random.nextInt(40_000)];
        random.nextBytes(chunk);
        Frame piece = Frame.newBuilder()
            .setPiece(Piece.newBuilder().setChunkIndex(i).setData(ByteString.copyFrom(chunk)))
            .build();
        await().atMost(Duration.ofSeconds(10)).until(ba::dataWritable);
        assertTrue(ba.sendData(piece));
        assertEquals(piece, heardByA.frames.poll(10, TimeUnit.SECONDS), "piece " + i);
      }
      // every piece was read whole: the reader sits at a record boundary, its mark back at 1
      await().atMost(Duration.ofSeconds(5)).until(() -> reader.mark() == 1);
      assertEquals(1, kernelMark(ab), "the socket's SO_RCVLOWAT");
      // and the kernel takes a mark above 1 (what the reader sets mid-record)
      assertTrue(ab.data().eventLoop().submit(() -> RecordLowWater.Setter.EPOLL.set(ab.data(), 4_096)).get());
      assertEquals(4_096, kernelMark(ab));
    }
  }
}
