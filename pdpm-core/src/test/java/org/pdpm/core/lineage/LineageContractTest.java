package org.pdpm.core.lineage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvSnapshot;
import org.pdpm.core.api.LineageStore;
import org.pdpm.core.api.Lineages;

/**
 * Epochs and lineages on a store that updates in place (DESIGN §3), as the Flink backend uses them
 * and as {@code CloverLineageTest} checks them on Clover: a pinned epoch reads as it was; a fork
 * sees its point and then only its own writes, never a zombie's or a sibling's; what nothing sees
 * any more is reclaimed, and the store stays bounded under churn. Run on pDPM-Direct and
 * pDPM-Central. Budget: a few seconds per store, most of it the churn test.
 */
abstract class LineageContractTest {

    private static final int KEYS = 50;

    LineagePool pool;
    StoreLineages lineages;
    private ConditionalKvStore raw;

    abstract LineagePool newPool();

    @BeforeEach
    void open() {
        pool = newPool();
        lineages = StoreLineages.over(pool.client());
        raw = pool.client();
    }

    @AfterEach
    void close() {
        pool.close();
    }

    static byte[] key(int i) {
        return ("k/" + i).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static void writeAll(LineageStore s, String tag) {
        for (int i = 0; i < KEYS; i++) {
            s.put(key(i), bytes(tag + i));
        }
    }

    private static void assertAll(String what, Function<byte[], byte[]> get, String tag) {
        for (int i = 0; i < KEYS; i++) {
            assertThat(text(get.apply(key(i)))).as("%s, key %d", what, i).isEqualTo(tag == null ? null : tag + i);
        }
    }

    /** A checkpoint as the Flink backend takes it: pin the epoch that ends, then write in the next. */
    private void checkpoint(LineageStore s, String owner) {
        lineages.pin(s.lineage(), s.epoch(), owner);
        s.advanceEpoch(s.epoch() + 1);
    }

    private static List<String> scan(KvCursor cursor) {
        List<String> out = new ArrayList<>();
        try (KvCursor c = cursor) {
            c.forEachRemaining(e -> out.add(text(e.key()) + "=" + text(e.value())));
        }
        return out;
    }

    /** Records of one kind ({@link LineageKeys}) in the underlying store. */
    private int records(byte kind) {
        int n = 0;
        try (KvCursor c = raw.scan(LineageKeys.kind(kind))) {
            while (c.hasNext()) {
                c.next();
                n++;
            }
        }
        return n;
    }

    @Test
    void aPinnedEpochReadsAsItWasWhileTheHeadMovesOn() {
        int root = lineages.createLineage();
        LineageStore s = lineages.open(root, 1);
        writeAll(s, "one-");
        checkpoint(s, "cp-1");
        for (int round = 0; round < 5; round++) {
            writeAll(s, "two-" + round + "-");
        }
        s.delete(key(0));
        KvSnapshot at1 = s.asOf(root, 1);
        assertAll("pinned epoch 1", at1::get, "one-");
        assertThat(s.get(key(0))).isNull();
        assertThat(text(s.get(key(1)))).isEqualTo("two-4-1");
        assertThat(scan(at1.scan(bytes("k/1")))).containsExactly("k/1=one-1", "k/10=one-10", "k/11=one-11",
                "k/12=one-12", "k/13=one-13", "k/14=one-14", "k/15=one-15", "k/16=one-16", "k/17=one-17", "k/18=one-18",
                "k/19=one-19");
        assertThat(scan(s.scan(bytes("k/1")))).hasSize(11).startsWith("k/1=two-4-1");
        assertThat(scan(s.scan(bytes("k/0")))).as("deleted at the head").isEmpty();
        assertThat(records(LineageKeys.VERSION)).as("one preserved version per key, the one the pin sees")
                .isEqualTo(KEYS);
    }

    @Test
    void unpinningPrunesWhatOnlyThePinSaw() {
        int root = lineages.createLineage();
        LineageStore s = lineages.open(root, 1);
        writeAll(s, "one-");
        checkpoint(s, "cp-1");
        writeAll(s, "two-");
        checkpoint(s, "cp-2");
        writeAll(s, "three-");
        assertThat(records(LineageKeys.VERSION)).isEqualTo(2 * KEYS);
        lineages.unpin(root, 1, "cp-1");
        assertThat(records(LineageKeys.VERSION)).as("only what cp-2 sees").isEqualTo(KEYS);
        assertAll("cp-2", s.asOf(root, 2)::get, "two-");
        lineages.unpin(root, 2, "cp-2");
        assertThat(records(LineageKeys.VERSION)).isZero();
        assertAll("head", s::get, "three-");
        assertThatThrownBy(() -> s.asOf(root, 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not pinned");
        lineages.unpin(root, 2, "cp-2");
    }

    @Test
    void aForkSeesItsPointAndThenOnlyItsOwnWritesNeverAZombies() {
        int root = lineages.createLineage();
        LineageStore first = lineages.open(root, 1);
        writeAll(first, "checkpointed-");
        checkpoint(first, "cp-1");
        writeAll(first, "after-checkpoint-");   // lost with the failure that follows
        int restored = lineages.fork(root, 1);
        lineages.dropLineage(root);             // the Flink backend fences the earlier attempt so
        LineageStore second = StoreLineages.over(pool.client()).open(restored, 1);
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
        assertThat(scan(second.scan(bytes("k/1")))).as("merged scan of the fork").containsExactly(
                "k/10=restored-10", "k/11=checkpointed-11", "k/12=restored-12", "k/13=checkpointed-13",
                "k/14=restored-14", "k/15=checkpointed-15", "k/16=restored-16", "k/17=checkpointed-17",
                "k/18=restored-18", "k/19=checkpointed-19");
        assertAll("the zombie sees its own writes only", first::get, "zombie-again-");
        assertAll("the checkpoint", second.asOf(root, 1)::get, "checkpointed-");
        assertThatThrownBy(() -> first.advanceEpoch(3)).as("the zombie is fenced at its next checkpoint")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("lineage " + root + " was dropped");
    }

    @Test
    void twoForksOfOnePointNeverSeeEachOther() {
        int origin = lineages.createLineage();
        LineageStore o = lineages.open(origin, 7);
        writeAll(o, "origin-");
        checkpoint(o, "savepoint");
        int a = lineages.fork(origin, 7);
        int b = lineages.fork(origin, 7);
        LineageStore jobA = lineages.open(a, 8);
        LineageStore jobB = lineages.open(b, 8);
        writeAll(jobA, "a-");
        jobA.put(bytes("k/only-a"), bytes("mine"));
        assertAll("job b", jobB::get, "origin-");
        assertThat(jobB.get(bytes("k/only-a"))).isNull();
        writeAll(jobB, "b-");
        assertAll("job a", jobA::get, "a-");
        assertAll("job b", jobB::get, "b-");
        assertAll("origin", o::get, "origin-");
        assertThat(scan(jobB.scan(bytes("k/o")))).as("a key only job a created").isEmpty();
        assertThat(scan(jobA.scan(bytes("k/o")))).containsExactly("k/only-a=mine");
    }

    @Test
    void aForkOfAForkSeesEachAncestorUpToWhereItForked() {
        int root = lineages.createLineage();
        LineageStore r = lineages.open(root, 1);
        r.put(key(0), bytes("root-1"));
        r.put(key(1), bytes("root-1"));
        r.put(key(3), bytes("root-1"));
        checkpoint(r, "cp");
        r.put(key(0), bytes("root-2"));
        int child = lineages.fork(root, 1);
        LineageStore c = lineages.open(child, 5);
        c.put(key(1), bytes("child-5"));
        c.delete(key(3));
        checkpoint(c, "cp");
        c.put(key(1), bytes("child-6"));
        c.put(key(2), bytes("child-6"));
        int grandchild = lineages.fork(child, 5);
        LineageStore g = lineages.open(grandchild, 6);
        assertThat(text(g.get(key(0)))).isEqualTo("root-1");
        assertThat(text(g.get(key(1)))).isEqualTo("child-5");
        assertThat(g.get(key(2))).isNull();
        assertThat(g.get(key(3))).as("deleted in the child before its fork point").isNull();
        assertThat(scan(g.scan(bytes("k/")))).containsExactly("k/0=root-1", "k/1=child-5");
        assertThat(scan(c.scan(bytes("k/")))).containsExactly("k/0=root-1", "k/1=child-6", "k/2=child-6");
        assertThat(lineages.levels(grandchild, Long.MAX_VALUE)).containsExactly(
                new LineageReader.Level(grandchild, Long.MAX_VALUE), new LineageReader.Level(child, 5),
                new LineageReader.Level(root, 1));
    }

    @Test
    void droppingLineagesReclaimsWhatNothingSees() {
        int first = lineages.createLineage();
        LineageStore s1 = lineages.open(first, 1);
        writeAll(s1, "one-");
        checkpoint(s1, "cp-1");
        writeAll(s1, "two-");
        int second = lineages.fork(first, 1);
        lineages.dropLineage(first);
        LineageStore s2 = lineages.open(second, 1);
        writeAll(s2, "three-");
        assertThat(records(LineageKeys.DATA)).as("both lineages' records").isEqualTo(2 * KEYS);
        assertThat(records(LineageKeys.VERSION)).as("what cp-1 and the fork see").isEqualTo(KEYS);
        lineages.unpin(first, 1, "cp-1");
        assertThat(lineages.lineage(first).state()).as("the fork still sees it").isEqualTo(LineageRecord.State.DROPPED);
        assertAll("new lineage", s2::get, "three-");
        s2.delete(key(0));

        checkpoint(s2, "cp-2");
        int third = lineages.fork(second, 1);
        lineages.dropLineage(second);
        lineages.unpin(second, 1, "cp-2");
        assertThat(lineages.lineage(first).state()).isEqualTo(LineageRecord.State.DROPPED);
        LineageStore s3 = lineages.open(third, 1);
        assertThat(s3.get(key(0))).isNull();
        assertThat(text(s3.get(key(1)))).isEqualTo("three-1");
        lineages.dropLineage(third);
        assertThat(lineages.lineage(first).state()).isEqualTo(LineageRecord.State.COLLECTED);
        assertThat(lineages.lineage(second).state()).isEqualTo(LineageRecord.State.COLLECTED);
        assertThat(records(LineageKeys.DATA) + records(LineageKeys.VERSION) + records(LineageKeys.FORK)
                + records(LineageKeys.PIN) + records(LineageKeys.WRITER_EPOCH)).as("nothing but the catalog's lineages")
                .isZero();
        assertThat(records(LineageKeys.LINEAGE)).isEqualTo(3);
        assertThat(lineages.createLineage()).as("ids are never reused").isEqualTo(third + 1);
        assertThatThrownBy(() -> lineages.open(first, 3)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("lineage " + first + " was dropped");
    }

    @Test
    void aKeyDeletedInOneLineageStaysWhileAnotherStillSeesIt() {
        int root = lineages.createLineage();
        LineageStore r = lineages.open(root, 1);
        r.put(key(0), bytes("kept"));
        checkpoint(r, "cp-1");
        int fork = lineages.fork(root, 1);
        LineageStore forked = lineages.open(fork, 2);
        r.delete(key(0));
        assertThat(r.get(key(0))).isNull();
        assertThat(text(forked.get(key(0)))).isEqualTo("kept");
        lineages.unpin(root, 1, "cp-1");
        lineages.dropLineage(root);
        assertThat(text(forked.get(key(0)))).as("the fork still sees it").isEqualTo("kept");
        forked.delete(key(0));
        assertThat(forked.get(key(0))).isNull();
        assertThat(scan(forked.scan(bytes("k/")))).isEmpty();
        forked.put(key(0), bytes("again"));
        assertThat(text(forked.get(key(0)))).isEqualTo("again");
        assertThat(scan(forked.scan(bytes("k/")))).containsExactly("k/0=again");
    }

    @Test
    void scansAreOrderedAndStayInsideTheirPrefix() {
        int root = lineages.createLineage();
        LineageStore s = lineages.open(root, 1);
        byte[][] keys = {{1}, {1, 0}, {1, 0, 0}, {1, 0, (byte) 0xFF}, {1, 1}, {1, (byte) 0x80}, {2}, {0, 1}};
        for (byte[] k : keys) {
            s.put(k, k);
        }
        checkpoint(s, "cp");
        for (byte[] k : keys) {
            s.put(k, new byte[] {9});
        }
        s.delete(new byte[] {1, 0, 0});
        List<KvEntry> asOf = new ArrayList<>();
        try (KvCursor c = s.asOf(root, 1).scan(new byte[] {1})) {
            c.forEachRemaining(asOf::add);
        }
        assertThat(asOf).extracting(KvEntry::key).containsExactly(new byte[] {1}, new byte[] {1, 0},
                new byte[] {1, 0, 0}, new byte[] {1, 0, (byte) 0xFF}, new byte[] {1, 1}, new byte[] {1, (byte) 0x80});
        assertThat(asOf).allSatisfy(e -> assertThat(e.value()).isEqualTo(e.key()));
        List<KvEntry> head = new ArrayList<>();
        try (KvCursor c = s.scan(new byte[] {1, 0})) {
            c.forEachRemaining(head::add);
        }
        assertThat(head).extracting(KvEntry::key).containsExactly(new byte[] {1, 0}, new byte[] {1, 0, (byte) 0xFF});
    }

    @Test
    void misuseFailsClearly() {
        int root = lineages.createLineage();
        LineageStore s = lineages.open(root, 4);
        assertThatThrownBy(() -> lineages.fork(root, 4)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not pinned");
        assertThatThrownBy(() -> lineages.fork(99, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no lineage 99");
        assertThatThrownBy(() -> lineages.open(99, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no lineage 99");
        assertThatThrownBy(() -> s.advanceEpoch(3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("epochs only advance");
        assertThatThrownBy(() -> lineages.pin(root, 4, "x".repeat(256))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("MAX_PIN_OWNER_BYTES=255");
        assertThatThrownBy(() -> lineages.pin(root, 4, "")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> lineages.pin(root, -1, "o")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("epoch=-1");
        assertThatThrownBy(() -> s.put(new byte[s.limits().maxKeyBytes() + 1], new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxKeyBytes=");
        s.put(new byte[s.limits().maxKeyBytes()], new byte[s.limits().maxValueBytes()]);
        assertThat(s.get(new byte[s.limits().maxKeyBytes()])).hasSize(s.limits().maxValueBytes());
        int other = lineages.createLineage();
        lineages.dropLineage(other);
        lineages.dropLineage(other);
        assertThatThrownBy(() -> lineages.pin(other, 1, "late")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("was dropped");
        lineages.unpin(root, 4, "never-pinned");
        assertThatThrownBy(() -> lineages.open(root, 2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("epochs only advance");
    }

    @Test
    void aPinOfAnEpochTheWriterLeftIsRefusedUnlessAnotherPinHoldsIt() {
        int root = lineages.createLineage();
        LineageStore s = lineages.open(root, 1);
        writeAll(s, "one-");
        s.advanceEpoch(2);
        writeAll(s, "two-");
        assertThatThrownBy(() -> lineages.pin(root, 1, "late")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("epoch 1 of lineage " + root + " was left behind");
        assertThat(lineages.pins()).isEmpty();
        checkpoint(s, "cp-2");
        writeAll(s, "three-");
        lineages.pin(root, 2, "second owner");
        lineages.unpin(root, 2, "cp-2");
        assertAll("held by the second owner", s.asOf(root, 2)::get, "two-");
        assertThat(lineages.pins()).containsExactly(new Lineages.Pin(root, 2, "second owner"));
    }

    @Test
    void theCatalogIsSharedByClientsOfOtherProcesses() {
        int root = lineages.createLineage();
        LineageStore s = lineages.open(root, 1);
        writeAll(s, "one-");
        checkpoint(s, "cp-1");
        writeAll(s, "two-");
        StoreLineages elsewhere = StoreLineages.over(pool.client());
        assertThat(elsewhere.pins()).containsExactly(new Lineages.Pin(root, 1, "cp-1"));
        int fork = elsewhere.fork(root, 1);
        assertThat(fork).isNotEqualTo(root);
        assertAll("fork opened by another process", elsewhere.open(fork, 1)::get, "one-");
        assertThat(lineages.createLineage()).isNotIn(root, fork);
    }

    /**
     * 2,000 keys overwritten 20 times, with a pin at every epoch and the one before released, as
     * Flink's checkpoints and their subsumption do: every pinned point reads as it was, and the
     * store holds at most the current records plus what the two live pins see. Budget: ~3 s per store.
     */
    @Test
    void churnWithPinsTakenAndReleasedStaysBounded() {
        int keys = 2_000;
        int rounds = 20;
        int root = lineages.createLineage();
        LineageStore s = lineages.open(root, 1);
        int maxRecords = 0;
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < keys; i++) {
                if (i % 97 == round % 97) {
                    s.delete(key(i));
                } else {
                    s.put(key(i), bytes("r" + round + "-" + i));
                }
            }
            maxRecords = Math.max(maxRecords, records(LineageKeys.DATA) + records(LineageKeys.VERSION));
            long e = s.epoch();
            checkpoint(s, "cp-" + e);
            if (e > 1) {
                lineages.unpin(root, e - 1, "cp-" + (e - 1));
            }
            KvSnapshot pinned = s.asOf(root, e);
            int finished = round;
            for (int i = 0; i < keys; i += 37) {
                String expected = i % 97 == finished % 97 ? null : "r" + finished + "-" + i;
                assertThat(text(pinned.get(key(i)))).as("round %d key %d", finished, i).isEqualTo(expected);
            }
        }
        assertThat(maxRecords).as("current records plus the versions the one older live pin sees")
                .isLessThanOrEqualTo(2 * keys);
        lineages.unpin(root, s.epoch() - 1, "cp-" + (s.epoch() - 1));
        assertThat(records(LineageKeys.VERSION)).isZero();
        assertThat(records(LineageKeys.DATA)).isEqualTo(keys);
    }
}
