package org.pdpm.core.clover;

import org.pdpm.core.api.Lineages;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvSnapshot;

/**
 * Epochs and lineages (DESIGN §3): a pinned epoch reads as it was; a fork sees its point and then
 * only its own writes, never a zombie's or a sibling's; what nothing can see any more is collected;
 * and all of it survives a restart of the metadata server. Budget: about a second.
 */
class CloverLineageTest {

    private static final int KEYS = 50;

    private final LocalPool pool = new LocalPool(2, 1, 16L << 20);

    private CloverStore open(int lineage, long epoch) {
        CloverStore c = CloverStore.builder().fabric(pool.fabric).memoryNodes(pool.nodes).metadata(pool.metadata)
                .lineage(lineage).epoch(epoch).open();
        opened.add(c);
        return c;
    }

    private final List<CloverStore> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(CloverStore::close);
        pool.close();
    }

    private static byte[] key(int i) {
        return ("k/" + i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static void writeAll(CloverStore s, String tag) {
        for (int i = 0; i < KEYS; i++) {
            s.put(key(i), bytes(tag + i));
        }
    }

    private static void assertAll(String what, java.util.function.Function<byte[], byte[]> get, String tag) {
        for (int i = 0; i < KEYS; i++) {
            assertThat(text(get.apply(key(i)))).as("%s, key %d", what, i).isEqualTo(tag == null ? null : tag + i);
        }
    }

    /** A checkpoint as the Flink backend takes it: pin the epoch that ends, then write in the next. */
    private static void checkpoint(CloverStore s, String owner) {
        s.pin(s.epoch(), owner);
        s.advanceEpoch(s.epoch() + 1);
    }

    @Test
    void aPinnedEpochReadsAsItWasWhileTheHeadMovesOn() {
        CloverStore s = open(MetadataService.ROOT_LINEAGE, 1);
        writeAll(s, "one-");
        checkpoint(s, "cp-1");
        for (int round = 0; round < 5; round++) {
            writeAll(s, "two-" + round + "-");
        }
        s.delete(key(0));
        KvSnapshot at1 = s.asOf(MetadataService.ROOT_LINEAGE, 1);
        assertAll("pinned epoch 1", at1::get, "one-");
        assertThat(s.get(key(0))).isNull();
        assertThat(text(s.get(key(1)))).isEqualTo("two-4-1");
        List<String> scanned = new ArrayList<>();
        try (KvCursor c = at1.scan(bytes("k/1"))) {
            c.forEachRemaining(e -> scanned.add(text(e.key()) + "=" + text(e.value())));
        }
        assertThat(scanned).containsExactly("k/1=one-1", "k/10=one-10", "k/11=one-11", "k/12=one-12", "k/13=one-13",
                "k/14=one-14", "k/15=one-15", "k/16=one-16", "k/17=one-17", "k/18=one-18", "k/19=one-19");
        s.drainNotices();
        pool.metadata.awaitCollections();
        assertThat(pool.metadata.chainLength(key(1))).as("the pinned version and the tail; the rest collected")
                .isEqualTo(2);
    }

    @Test
    void unpinningLetsWhatOnlyThePinSawBeCollected() {
        CloverStore s = open(MetadataService.ROOT_LINEAGE, 1);
        writeAll(s, "one-");
        checkpoint(s, "cp-1");
        writeAll(s, "two-");
        writeAll(s, "three-");
        s.drainNotices();
        pool.metadata.awaitCollections();
        assertThat(pool.metadata.chainLength(key(3))).isEqualTo(2);
        s.unpin(1, "cp-1");
        pool.metadata.awaitCollections();
        for (int i = 0; i < KEYS; i++) {
            assertThat(pool.metadata.chainLength(key(i))).as("key %d", i).isEqualTo(1);
        }
        assertAll("head", s::get, "three-");
        assertThatThrownBy(() -> s.asOf(MetadataService.ROOT_LINEAGE, 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not pinned");
    }

    @Test
    void aForkSeesItsPointAndThenOnlyItsOwnWritesNeverAZombies() {
        CloverStore first = open(MetadataService.ROOT_LINEAGE, 1);
        writeAll(first, "checkpointed-");
        checkpoint(first, "cp-1");
        writeAll(first, "after-checkpoint-");   // lost with the failure that follows
        int restored = pool.metadata.fork(MetadataService.ROOT_LINEAGE, 1);
        CloverStore second = open(restored, 2);
        assertAll("restored lineage", second::get, "checkpointed-");

        writeAll(first, "zombie-");             // the old attempt has not noticed it was replaced
        assertAll("restored lineage after zombie writes", second::get, "checkpointed-");
        for (int i = 0; i < KEYS; i += 2) {
            second.put(key(i), bytes("restored-" + i));
        }
        second.delete(key(1));
        writeAll(first, "zombie-again-");
        for (int i = 0; i < KEYS; i++) {
            String expected = i % 2 == 0 ? "restored-" + i : i == 1 ? null : "checkpointed-" + i;
            assertThat(text(second.get(key(i)))).as("key %d", i).isEqualTo(expected);
        }
        assertAll("the zombie sees its own writes only", first::get, "zombie-again-");
        assertAll("the checkpoint", first.asOf(MetadataService.ROOT_LINEAGE, 1)::get, "checkpointed-");
    }

    @Test
    void twoForksOfOnePointNeverSeeEachOther() {
        CloverStore origin = open(MetadataService.ROOT_LINEAGE, 7);
        writeAll(origin, "origin-");
        checkpoint(origin, "savepoint");
        int a = pool.metadata.fork(MetadataService.ROOT_LINEAGE, 7);
        int b = pool.metadata.fork(MetadataService.ROOT_LINEAGE, 7);
        CloverStore jobA = open(a, 8);
        CloverStore jobB = open(b, 8);
        writeAll(jobA, "a-");
        jobA.put(bytes("k/only-a"), bytes("mine"));
        assertAll("job b", jobB::get, "origin-");
        assertThat(jobB.get(bytes("k/only-a"))).isNull();
        writeAll(jobB, "b-");
        assertAll("job a", jobA::get, "a-");
        assertAll("job b", jobB::get, "b-");
        assertAll("origin", origin::get, "origin-");
        List<byte[]> keysOfB = new ArrayList<>();
        try (KvCursor c = jobB.scan(bytes("k/o"))) {
            c.forEachRemaining(e -> keysOfB.add(e.key()));
        }
        assertThat(keysOfB).as("a key only job a created").isEmpty();
        try (KvCursor c = jobA.scan(bytes("k/o"))) {
            assertThat(c.hasNext()).isTrue();
            assertThat(text(c.next().value())).isEqualTo("mine");
        }
    }

    @Test
    void aForkOfAForkSeesEachAncestorUpToWhereItForked() {
        CloverStore root = open(MetadataService.ROOT_LINEAGE, 1);
        root.put(key(0), bytes("root-1"));
        root.put(key(1), bytes("root-1"));
        checkpoint(root, "cp");
        root.put(key(0), bytes("root-2"));
        int child = pool.metadata.fork(MetadataService.ROOT_LINEAGE, 1);
        CloverStore c = open(child, 5);
        c.put(key(1), bytes("child-5"));
        c.pin(5, "cp");
        c.advanceEpoch(6);
        c.put(key(1), bytes("child-6"));
        c.put(key(2), bytes("child-6"));
        int grandchild = pool.metadata.fork(child, 5);
        CloverStore g = open(grandchild, 6);
        assertThat(text(g.get(key(0)))).isEqualTo("root-1");
        assertThat(text(g.get(key(1)))).isEqualTo("child-5");
        assertThat(g.get(key(2))).isNull();
        assertThat(pool.metadata.lineage(grandchild).sees()).containsExactly(
                new MetadataService.EpochRange(grandchild, Long.MAX_VALUE), new MetadataService.EpochRange(child, 5),
                new MetadataService.EpochRange(MetadataService.ROOT_LINEAGE, 1));
    }

    @Test
    void droppingALineageCollectsWhatOnlyItsHeadSaw() {
        CloverStore first = open(MetadataService.ROOT_LINEAGE, 1);
        writeAll(first, "one-");
        checkpoint(first, "cp-1");
        writeAll(first, "two-");
        int next = pool.metadata.fork(MetadataService.ROOT_LINEAGE, 1);
        CloverStore second = open(next, 2);
        writeAll(second, "three-");
        first.drainNotices();
        second.drainNotices();
        pool.metadata.awaitCollections();
        assertThat(pool.metadata.chainLength(key(4))).as("pinned, the old head's, the new lineage's").isEqualTo(3);
        pool.metadata.dropLineage(MetadataService.ROOT_LINEAGE);
        pool.metadata.awaitCollections();
        assertThat(pool.metadata.chainLength(key(4))).as("the pinned one and the tail").isEqualTo(2);
        assertAll("pinned", second.asOf(MetadataService.ROOT_LINEAGE, 1)::get, "one-");
        assertAll("new lineage", second::get, "three-");
        assertThatThrownBy(() -> open(MetadataService.ROOT_LINEAGE, 3)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("lineage 0 was dropped");
    }

    @Test
    void aKeyDeletedInOneLineageStaysWhileAnotherStillSeesIt() {
        CloverStore root = open(MetadataService.ROOT_LINEAGE, 1);
        root.put(key(0), bytes("kept"));
        checkpoint(root, "cp-1");
        int fork = pool.metadata.fork(MetadataService.ROOT_LINEAGE, 1);
        CloverStore forked = open(fork, 2);
        root.delete(key(0));
        root.drainNotices();
        pool.metadata.awaitCollections();
        assertThat(pool.metadata.keyCount()).as("the fork and the pin still see it").isEqualTo(1);
        assertThat(root.get(key(0))).isNull();
        assertThat(text(forked.get(key(0)))).isEqualTo("kept");

        root.unpin(1, "cp-1");
        pool.metadata.dropLineage(MetadataService.ROOT_LINEAGE);
        pool.metadata.awaitCollections();
        assertThat(pool.metadata.keyCount()).as("the fork still sees it").isEqualTo(1);
        assertThat(text(forked.get(key(0)))).isEqualTo("kept");

        forked.delete(key(0));
        forked.drainNotices();
        pool.metadata.awaitCollections();
        assertThat(pool.metadata.keyCount()).as("no view sees anything but tombstones").isZero();
        assertThat(forked.get(key(0))).isNull();
        forked.put(key(0), bytes("again"));
        assertThat(text(forked.get(key(0)))).isEqualTo("again");
    }

    @Test
    void misuseFailsClearly() {
        CloverStore s = open(MetadataService.ROOT_LINEAGE, 4);
        assertThatThrownBy(() -> pool.metadata.fork(MetadataService.ROOT_LINEAGE, 4))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not pinned");
        assertThatThrownBy(() -> pool.metadata.fork(99, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no lineage 99");
        assertThatThrownBy(() -> open(99, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no lineage 99");
        assertThatThrownBy(() -> s.advanceEpoch(3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("epochs only advance");
        assertThatThrownBy(() -> s.pin(4, "x".repeat(256))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("MAX_PIN_OWNER_BYTES=255");
        assertThatThrownBy(() -> s.pin(4, "")).isInstanceOf(IllegalArgumentException.class);
        int other = pool.metadata.createLineage();
        pool.metadata.dropLineage(other);
        pool.metadata.dropLineage(other);
        assertThatThrownBy(() -> pool.metadata.pin(other, 1, "late")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("was dropped");
        s.unpin(4, "never-pinned");
    }

    @Test
    void lineagesAndPinsSurviveARestartOfTheMetadataServer() {
        CloverStore s = open(MetadataService.ROOT_LINEAGE, 1);
        writeAll(s, "one-");
        checkpoint(s, "cp-1");
        writeAll(s, "two-");
        int fork = pool.metadata.fork(MetadataService.ROOT_LINEAGE, 1);
        int gone = pool.metadata.createLineage();
        pool.metadata.dropLineage(gone);
        pool.metadata.pin(MetadataService.ROOT_LINEAGE, 1, "second owner");
        pool.metadata.unpin(MetadataService.ROOT_LINEAGE, 1, "second owner");
        s.close();
        opened.remove(s);

        pool.restartMetadata();
        assertThat(pool.metadata.pins()).containsExactly(new Lineages.Pin(MetadataService.ROOT_LINEAGE, 1, "cp-1"));
        assertThat(pool.metadata.lineage(gone).live()).isFalse();
        assertThat(pool.metadata.lineage(fork).sees()).containsExactly(new MetadataService.EpochRange(fork, Long.MAX_VALUE),
                new MetadataService.EpochRange(MetadataService.ROOT_LINEAGE, 1));
        CloverStore restored = open(fork, 2);
        assertAll("fork after restart", restored::get, "one-");
        assertAll("pin after restart", restored.asOf(MetadataService.ROOT_LINEAGE, 1)::get, "one-");
        CloverStore head = open(MetadataService.ROOT_LINEAGE, 2);
        assertAll("head after restart", head::get, "two-");
        assertThat(pool.metadata.createLineage()).as("ids are never reused").isGreaterThan(gone);
    }
}
