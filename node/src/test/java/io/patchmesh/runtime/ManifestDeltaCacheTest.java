package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.DeltaOp;
import io.patchmesh.trust.ManifestId;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ManifestDeltaCacheTest {
  private static final ManifestId V1 = id(1);
  private static final ManifestId V2 = id(2);
  private static final ManifestId V3 = id(3);
  private static final ByteString ENVELOPE = ByteString.copyFromUtf8("the envelope of v2");
  private static final Delta DELTA =
      Delta.newBuilder().addOps(DeltaOp.newBuilder().setLiteral(ByteString.copyFromUtf8("x"))).build();

  private final AtomicInteger encodings = new AtomicInteger();

  private Supplier<Optional<Delta>> encoder(Optional<Delta> result) {
    return () -> {
      encodings.incrementAndGet();
      return result;
    };
  }

  @Test
  void aPairAskedAgainIsEncodedOnce() {
    ManifestDeltaCache cache = new ManifestDeltaCache(2);
    for (int i = 0; i < 100; i++) {
      assertEquals(Optional.of(DELTA), cache.get(V2, V1, ENVELOPE, encoder(Optional.of(DELTA))));
    }
    assertEquals(1, encodings.get());
  }

  @Test
  void aDeltaNotWorthSendingIsRememberedToo() {
    ManifestDeltaCache cache = new ManifestDeltaCache(2);
    for (int i = 0; i < 100; i++) {
      assertTrue(cache.get(V2, V1, ENVELOPE, encoder(Optional.empty())).isEmpty());
    }
    assertEquals(1, encodings.get(), "a peer naming a base that does not pay must not buy an encoding per request");
  }

  @Test
  void anotherEnvelopeUnderTheSameIdIsEncodedAfresh() {
    ManifestDeltaCache cache = new ManifestDeltaCache(2);
    cache.get(V2, V1, ENVELOPE, encoder(Optional.of(DELTA)));
    ByteString cosigned = ENVELOPE.concat(ByteString.copyFromUtf8(" and one more signature"));
    cache.get(V2, V1, cosigned, encoder(Optional.empty()));
    assertEquals(2, encodings.get());
    assertTrue(cache.get(V2, V1, cosigned, encoder(Optional.of(DELTA))).isEmpty(), "the newer envelope's encoding is kept");
    assertEquals(2, encodings.get());
  }

  @Test
  void keepsOnlyTheMostRecentlyAskedPairs() {
    ManifestDeltaCache cache = new ManifestDeltaCache(2);
    cache.get(V2, V1, ENVELOPE, encoder(Optional.of(DELTA)));
    cache.get(V3, V1, ENVELOPE, encoder(Optional.of(DELTA)));
    cache.get(V2, V1, ENVELOPE, encoder(Optional.of(DELTA))); // kept: V3/V1 is now the older
    cache.get(V3, V2, ENVELOPE, encoder(Optional.of(DELTA))); // evicts V3/V1
    assertEquals(3, encodings.get());
    cache.get(V2, V1, ENVELOPE, encoder(Optional.of(DELTA)));
    assertEquals(3, encodings.get());
    cache.get(V3, V1, ENVELOPE, encoder(Optional.of(DELTA)));
    assertEquals(4, encodings.get());
  }

  private static ManifestId id(int n) {
    byte[] b = new byte[ManifestId.LENGTH];
    b[0] = (byte) n;
    return ManifestId.of(b);
  }
}
