package org.pdpm.core.lineage;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.LineageStore;
import org.pdpm.core.api.Lineages;

/**
 * Lineages kept in the store they describe (DESIGN §3), for stores that update in place
 * (pDPM-Direct, pDPM-Central): the catalog lives under reserved keys ({@link LineageKeys}), and the
 * clients it opens ({@link #open}) preserve a record before overwriting it when a pin or a fork may
 * still need it. No server is involved; any number of processes may share one catalog, since the
 * only step that must be atomic, handing out a lineage id, is a {@link ConditionalKvStore#putIfAbsent}.
 *
 * <p>What this class promises beyond {@link Lineages}: ids are never handed out twice, not even
 * after a lineage is collected; a pin of an epoch its lineage's writer has already left is refused
 * unless that point is still held by another pin or a fork (its overwritten records may be gone);
 * dropping a lineage and releasing pins reclaim what nothing can see any more (see
 * {@link #collectGarbage}). Thread-safe.
 */
public final class StoreLineages implements Lineages {

    /** Keys a client remembers having written in its current epoch, so that it re-reads none of them. */
    public static final int DEFAULT_WRITTEN_KEYS_CACHED = 16_384;

    private final ConditionalKvStore store;
    private final int writtenKeysCached;
    private final AtomicInteger nextIdHint = new AtomicInteger(-1);
    private final LineageGarbage garbage;

    /** The store's key bound that lets user keys of up to {@code userKeyBytes} through (every byte escaped). */
    public static int storeKeyBytesFor(int userKeyBytes) {
        return 2 * userKeyBytes + LineageKeys.HEADER_BYTES + 2 + 8;
    }

    /** The store's value bound that lets user values of up to {@code userValueBytes} through. */
    public static int storeValueBytesFor(int userValueBytes) {
        return userValueBytes + Version.HEADER_BYTES;
    }

    private StoreLineages(ConditionalKvStore store, int writtenKeysCached) {
        this.store = Objects.requireNonNull(store, "store");
        if (writtenKeysCached < 0) {
            throw new IllegalArgumentException("writtenKeysCached=" + writtenKeysCached + " must not be negative");
        }
        this.writtenKeysCached = writtenKeysCached;
        this.garbage = new LineageGarbage(this);
    }

    /** The lineages of {@code store}; the store stays its caller's to close. */
    public static StoreLineages over(ConditionalKvStore store) {
        return new StoreLineages(store, DEFAULT_WRITTEN_KEYS_CACHED);
    }

    /** As {@link #over(ConditionalKvStore)}, with clients that remember up to {@code writtenKeysCached} keys. */
    public static StoreLineages over(ConditionalKvStore store, int writtenKeysCached) {
        return new StoreLineages(store, writtenKeysCached);
    }

    ConditionalKvStore store() {
        return store;
    }

    // ---------------------------------------------------------------- lineages

    @Override
    public int createLineage() {
        return allocate(LineageRecord.NO_PARENT, 0);
    }

    /**
     * Records the fork point first (so that the parent's writer keeps preserving for it), then
     * checks the pin, then allocates the new lineage. A crash in between leaves only a marker,
     * which costs some over-preserving until {@link #collectGarbage} finds it unused.
     */
    @Override
    public int fork(int lineage, long epoch) {
        checkEpoch(epoch);
        LineageRecord parent = require(lineage);
        if (parent.state() == LineageRecord.State.COLLECTED) {
            throw new IllegalStateException("lineage " + lineage + " was dropped and collected; nothing to fork from");
        }
        store.put(LineageKeys.atPoint(LineageKeys.FORK, lineage, epoch), new byte[0]);
        if (!pinned(lineage, epoch)) {
            throw new IllegalStateException("(lineage " + lineage + ", epoch " + epoch + ") is not pinned; pin it"
                    + " before forking");
        }
        return allocate(lineage, epoch);
    }

    /** Tries ids from a hint learnt once from the catalog; another process taking an id only moves us on. */
    private int allocate(int parent, long forkEpoch) {
        if (nextIdHint.get() < 0) {
            int max = -1;
            try (KvCursor c = store.scan(LineageKeys.kind(LineageKeys.LINEAGE))) {
                while (c.hasNext()) {
                    max = Math.max(max, LineageKeys.lineageOf(c.next().key()));
                }
            }
            nextIdHint.compareAndSet(-1, max + 1);
        }
        while (true) {
            int id = nextIdHint.getAndIncrement();
            if (id < 0) {
                throw new IllegalStateException("lineage ids are exhausted: every non-negative int was handed out");
            }
            byte[] record = new LineageRecord(id, LineageRecord.State.LIVE, parent, forkEpoch).encode();
            if (store.putIfAbsent(LineageKeys.ofLineage(LineageKeys.LINEAGE, id), record)) {
                return id;
            }
        }
    }

    @Override
    public void dropLineage(int lineage) {
        LineageRecord r = require(lineage);
        if (r.state() == LineageRecord.State.LIVE) {
            store.put(LineageKeys.ofLineage(LineageKeys.LINEAGE, lineage), r.with(LineageRecord.State.DROPPED).encode());
        }
        Collected c = collectGarbage();
        if (!c.purgedLineages().contains(lineage) && r.state() != LineageRecord.State.COLLECTED) {
            prune(lineage);
        }
    }

    /** The catalog's record of {@code lineage}. */
    public LineageRecord lineage(int lineage) {
        return require(lineage);
    }

    private LineageRecord require(int lineage) {
        if (lineage < 0) {
            throw new IllegalArgumentException("lineage=" + lineage + " must not be negative");
        }
        byte[] bytes = store.get(LineageKeys.ofLineage(LineageKeys.LINEAGE, lineage));
        if (bytes == null) {
            throw new IllegalArgumentException("no lineage " + lineage + " in this store");
        }
        return LineageRecord.decode(lineage, bytes);
    }

    private LineageRecord requireLive(int lineage) {
        LineageRecord r = require(lineage);
        if (r.state() != LineageRecord.State.LIVE) {
            throw new IllegalStateException("lineage " + lineage + " was dropped");
        }
        return r;
    }

    // ---------------------------------------------------------------- pins

    /**
     * Writes the pin, then reads the lineage's writer epoch; the writer, advancing, writes its epoch
     * and then reads the pins. Whichever comes second sees the other, so a pin that the writer
     * might not have seen in time is one of an epoch it already left: refused, unless another pin
     * or a fork holds that point (then its records were kept).
     */
    @Override
    public void pin(int lineage, long epoch, String owner) {
        checkEpoch(epoch);
        byte[] ownerBytes = checkOwner(owner);
        requireLive(lineage);
        byte[] key = LineageKeys.pin(lineage, epoch, ownerBytes);
        if (store.get(key) != null) {
            return;
        }
        store.put(key, new byte[0]);
        byte[] writer = store.get(LineageKeys.ofLineage(LineageKeys.WRITER_EPOCH, lineage));
        long writerEpoch = writer == null ? Long.MIN_VALUE : LineageKeys.epochFrom(writer);
        if (writerEpoch > epoch && !heldByAnother(lineage, epoch, key)) {
            store.delete(key);
            throw new IllegalStateException("epoch " + epoch + " of lineage " + lineage + " was left behind: its writer"
                    + " writes in epoch " + writerEpoch + "; pin an epoch before advancing past it");
        }
    }

    private boolean heldByAnother(int lineage, long epoch, byte[] ownPin) {
        if (store.get(LineageKeys.atPoint(LineageKeys.FORK, lineage, epoch)) != null) {
            return true;
        }
        try (KvCursor c = store.scan(LineageKeys.atPoint(LineageKeys.PIN, lineage, epoch))) {
            while (c.hasNext()) {
                if (!Arrays.equals(c.next().key(), ownPin)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Releases the pin, then prunes the versions only it needed (and collects its lineage if dropped and unseen). */
    @Override
    public void unpin(int lineage, long epoch, String owner) {
        checkEpoch(epoch);
        byte[] ownerBytes = checkOwner(owner);
        if (lineage < 0) {
            throw new IllegalArgumentException("lineage=" + lineage + " must not be negative");
        }
        byte[] key = LineageKeys.pin(lineage, epoch, ownerBytes);
        if (store.get(key) == null) {
            return;
        }
        store.delete(key);
        byte[] bytes = store.get(LineageKeys.ofLineage(LineageKeys.LINEAGE, lineage));
        LineageRecord r = bytes == null ? null : LineageRecord.decode(lineage, bytes);
        if (r == null || r.state() == LineageRecord.State.COLLECTED) {
            return;
        }
        if (r.state() == LineageRecord.State.DROPPED && collectGarbage().purgedLineages().contains(lineage)) {
            return;
        }
        prune(lineage);
    }

    @Override
    public List<Pin> pins() {
        List<Pin> pins = new ArrayList<>();
        try (KvCursor c = store.scan(LineageKeys.kind(LineageKeys.PIN))) {
            while (c.hasNext()) {
                byte[] k = c.next().key();
                pins.add(new Pin(LineageKeys.lineageOf(k), LineageKeys.epochOf(k),
                        new String(LineageKeys.ownerOf(k), StandardCharsets.UTF_8)));
            }
        }
        return pins;
    }

    boolean pinned(int lineage, long epoch) {
        try (KvCursor c = store.scan(LineageKeys.atPoint(LineageKeys.PIN, lineage, epoch))) {
            return c.hasNext();
        }
    }

    /** The points of {@code lineage} that must stay readable: its pins and the points forked from. */
    long[] heldEpochs(int lineage) {
        TreeSet<Long> epochs = new TreeSet<>();
        for (byte kind : new byte[] {LineageKeys.PIN, LineageKeys.FORK}) {
            try (KvCursor c = store.scan(LineageKeys.ofLineage(kind, lineage))) {
                while (c.hasNext()) {
                    epochs.add(LineageKeys.epochOf(c.next().key()));
                }
            }
        }
        return epochs.stream().mapToLong(Long::longValue).toArray();
    }

    private static void checkEpoch(long epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch=" + epoch + " must not be negative");
        }
    }

    private static byte[] checkOwner(String owner) {
        if (owner == null || owner.isEmpty()) {
            throw new IllegalArgumentException("a pin owner must not be empty, owner=" + owner);
        }
        byte[] bytes = owner.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_PIN_OWNER_BYTES) {
            throw new IllegalArgumentException("pin owner of " + bytes.length + " UTF-8 bytes exceeds MAX_PIN_OWNER_BYTES="
                    + MAX_PIN_OWNER_BYTES);
        }
        return bytes;
    }

    // ---------------------------------------------------------------- clients

    /**
     * The writer of {@code lineage}, writing in {@code epoch}: one per lineage (a second writer, or a
     * zombie of an earlier one, is never seen by forks and pins made before it wrote, but two live
     * writers in one lineage would overwrite each other's records). Closing it leaves the store open.
     */
    public LineageStore open(int lineage, long epoch) {
        checkEpoch(epoch);
        requireLive(lineage);
        byte[] writerKey = LineageKeys.ofLineage(LineageKeys.WRITER_EPOCH, lineage);
        byte[] writer = store.get(writerKey);
        if (writer != null && LineageKeys.epochFrom(writer) > epoch) {
            throw new IllegalArgumentException("epochs only advance: lineage " + lineage + " was written in epoch "
                    + LineageKeys.epochFrom(writer) + ", after epoch=" + epoch);
        }
        store.put(writerKey, LineageKeys.epochBytes(epoch));
        return new CopyOnWriteLineageStore(this, lineage, epoch, heldEpochs(lineage), levels(lineage, Long.MAX_VALUE),
                writtenKeysCached);
    }

    /** The writer moves to {@code next}: its epoch is recorded first (see {@link #pin}), then it learns the pins. */
    long[] enterEpoch(int lineage, long next) {
        store.put(LineageKeys.ofLineage(LineageKeys.WRITER_EPOCH, lineage), LineageKeys.epochBytes(next));
        requireLive(lineage);
        return heldEpochs(lineage);
    }

    /** {@code (lineage, asOf)} and its ancestors, each as of where its descendant forked. */
    List<LineageReader.Level> levels(int lineage, long asOf) {
        List<LineageReader.Level> levels = new ArrayList<>();
        LineageRecord r = require(lineage);
        levels.add(new LineageReader.Level(lineage, asOf));
        while (!r.root()) {
            levels.add(new LineageReader.Level(r.parent(), r.forkEpoch()));
            r = require(r.parent());
        }
        return levels;
    }

    // ---------------------------------------------------------------- garbage

    /** What one {@link #collectGarbage} did. */
    public record Collected(Set<Integer> purgedLineages, long deletedRecords) {}

    /**
     * Purges every dropped lineage that no pin and no lineage still in use sees (all its records,
     * then its catalog state becomes COLLECTED; a crash half-way is finished by the next run), and
     * removes fork markers that no pin and no lineage needs, pruning the versions only they kept.
     * Reads the catalog in the order pins, lineages, markers: a fork in progress holds its pin until
     * its new lineage is recorded, so a marker seen without a pin has its lineage recorded already.
     * Costs a scan of the catalog plus the records it deletes.
     */
    public Collected collectGarbage() {
        return garbage.collect();
    }

    /** Prunes the preserved versions of {@code lineage} that no held point sees; returns how many went. */
    long prune(int lineage) {
        return garbage.prune(lineage);
    }

    @Override
    public String toString() {
        return "StoreLineages[" + store + "]";
    }
}
