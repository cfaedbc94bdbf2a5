package org.pdpm.core.direct;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.pdpm.core.api.KeyOrder;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.rdma.api.TrafficCounter;

/**
 * The ordered index of keys: a skip list in the PM of replica group 0 ({@link IndexLayout}).
 * Writers (key creations and deletions) hold the pool's index lock and change the list with
 * flushed single-word link writes, bottom-up on insert and top-down on removal, so every state a
 * reader can see — or a crash can leave — is a valid skip list. Readers take no lock: they check
 * each node's checksum, generation and order, and search again from the last key they returned
 * when a check fails.
 */
final class KeyIndex {

    static final long HEAD = IndexLayout.pointer(1, 0);
    private static final int MAX_TORN_READS = 16;
    private static final int MAX_RESTARTS = 256;
    private static final int READ_AHEAD_NODES = 8;

    /** What the index needs from the store: reads from group 0's primary, ordered writes to all its replicas. */
    interface Replicas {
        byte[] readPrimary(long offset, int length, TrafficCounter op);

        /** Writes each pair in order, each made durable before the next, on every replica: one round trip. */
        void writeAll(List<Write> writes, TrafficCounter op);

        /** Makes {@code length} bytes at {@code offset} durable on every replica: one round trip. */
        void flushAll(long offset, long length, TrafficCounter op);
    }

    record Write(long offset, byte[] bytes) {}

    /** A key in the index and the slot that holds its value. */
    record Entry(byte[] key, long slotRef) {}

    private final DirectLayout layout;
    private final Replicas replicas;

    // What the writer holding the index lock knows. Only touched under that lock (and this monitor,
    // for the threads of one client): nodes read since the index last changed, and the header.
    private final Map<Long, IndexLayout.Node> cache = new HashMap<>();
    private long cachedVersion = -1;
    private long bump;
    private long freeHead;
    private long version;

    KeyIndex(DirectLayout layout, Replicas replicas) {
        this.layout = layout;
        this.replicas = replicas;
    }

    /** The header words and the head sentinel of an empty index, written when a pool is formatted. */
    static List<Write> formatWrites(DirectLayout layout) {
        byte[] header = new byte[24];
        DirectLayout.LONG.set(header, 8, 1L);   // bump: node 0 is the head
        byte[] head = IndexLayout.encode(1, IndexLayout.MAX_LEVEL, IndexLayout.STATE_HEAD, 0, new long[0], new byte[0]);
        return List.of(new Write(DirectLayout.INDEX_LOCK_OFFSET, header), new Write(layout.indexNodeOffset(0), head));
    }

    private IndexLayout.Node read(long pointer, TrafficCounter op) {
        for (int attempt = 0; attempt < MAX_TORN_READS; attempt++) {
            byte[] b = replicas.readPrimary(layout.indexNodeOffset(IndexLayout.node(pointer)), layout.nodeBytes(), op);
            IndexLayout.Node n = IndexLayout.decode(b, layout.maxKeyBytes());
            if (n != null) {
                return n;
            }
        }
        return null;
    }

    /** A node reached through {@code pointer} that still is what the pointer named, or null. */
    private IndexLayout.Node follow(long pointer, TrafficCounter op) {
        IndexLayout.Node n = read(pointer, op);
        if (n == null || n.gen() != IndexLayout.gen(pointer)
                || (n.state() != IndexLayout.STATE_LINKED && n.state() != IndexLayout.STATE_HEAD)) {
            return null;
        }
        return n;
    }

    /** Predecessors of {@code key} on every level (pointers and nodes), and the first node at or after it. */
    private record Search(long[] preds, IndexLayout.Node[] predNodes, long found, IndexLayout.Node foundNode) {}

    /**
     * Starts a change by the new holder of the index lock, with the index header it read as it took
     * the lock ({@link DirectLayout#INDEX_HEADER_BYTES} from the lock word): the nodes cached since
     * this client last changed the index are still good if nobody changed it since.
     */
    synchronized void begin(byte[] header) {
        bump = (long) DirectLayout.LONG.get(header, 8);
        freeHead = (long) DirectLayout.LONG.get(header, 16);
        version = (long) DirectLayout.LONG.get(header, 24);
        if (version != cachedVersion) {
            cache.clear();
            cachedVersion = version;
        }
    }

    /** A search by the lock holder: nothing changes under it, so a failed check means corruption. */
    private Search search(byte[] key, TrafficCounter op) {
        long[] preds = new long[IndexLayout.MAX_LEVEL];
        IndexLayout.Node[] predNodes = new IndexLayout.Node[IndexLayout.MAX_LEVEL];
        Map<Long, IndexLayout.Node> seen = cache;
        long x = HEAD;
        IndexLayout.Node xNode = seen.get(HEAD);
        if (xNode == null) {
            xNode = must(HEAD, op);
            seen.put(HEAD, xNode);
        }
        long found = 0;
        IndexLayout.Node foundNode = null;
        for (int l = IndexLayout.MAX_LEVEL - 1; l >= 0; l--) {
            while (true) {
                long next = xNode.next()[l];
                if (next == 0) {
                    break;
                }
                IndexLayout.Node n = seen.get(next);
                if (n == null) {
                    n = must(next, op);
                    seen.put(next, n);
                }
                if (KeyOrder.UNSIGNED.compare(n.key(), key) < 0) {
                    x = next;
                    xNode = n;
                } else {
                    if (l == 0) {
                        found = next;
                        foundNode = n;
                    }
                    break;
                }
            }
            preds[l] = x;
            predNodes[l] = xNode;
        }
        return new Search(preds, predNodes, found, foundNode);
    }

    private IndexLayout.Node must(long pointer, TrafficCounter op) {
        IndexLayout.Node n = follow(pointer, op);
        if (n == null) {
            throw new IllegalStateException("the key index of this pDPM-Direct pool is corrupt: node "
                    + IndexLayout.node(pointer) + " generation " + IndexLayout.gen(pointer) + " cannot be read");
        }
        return n;
    }

    /**
     * Adds {@code key} with {@code level} links, or points its node at {@code slotRef} when it is there already (left by a
     * deletion that did not finish). The caller holds the index lock.
     */
    synchronized void insert(byte[] key, long slotRef, int level, TrafficCounter op) {
        Search s = search(key, op);
        if (s.foundNode() != null && KeyOrder.UNSIGNED.compare(s.foundNode().key(), key) == 0) {
            IndexLayout.Node n = s.foundNode();
            if (n.slotRef() != slotRef) {
                List<Write> writes = new ArrayList<>();
                writes.add(nextVersion());
                writes.add(new Write(layout.indexNodeOffset(IndexLayout.node(s.found())),
                        IndexLayout.encodeHeader(n.gen(), n.level(), n.state(), slotRef, n.key())));
                apply(writes, op);
                cache.put(s.found(), new IndexLayout.Node(n.gen(), n.level(), n.state(), slotRef, n.freeNext(), n.next(),
                        n.key()));
            }
            return;
        }
        List<Write> writes = new ArrayList<>();
        writes.add(nextVersion());
        long node;
        int gen;
        long newFreeHead = freeHead;
        long newBump = bump;
        if (freeHead != 0) {
            IndexLayout.Node free = read(freeHead, op);
            if (free == null || free.gen() != IndexLayout.gen(freeHead) || free.state() != IndexLayout.STATE_FREE) {
                throw new IllegalStateException("the free list of this pDPM-Direct pool's key index is corrupt at node "
                        + IndexLayout.node(freeHead));
            }
            node = IndexLayout.node(freeHead);
            gen = free.gen() + 1;
            newFreeHead = free.freeNext();
            writes.add(new Write(DirectLayout.INDEX_FREE_OFFSET, word(newFreeHead)));
        } else if (bump < layout.indexNodes()) {
            node = bump;
            gen = 1;
            newBump = bump + 1;
            writes.add(new Write(DirectLayout.INDEX_BUMP_OFFSET, word(newBump)));
        } else {
            throw new SpaceExhaustedException("the key index is full: the pool holds at most " + (layout.indexNodes() - 1)
                    + " keys; nothing was changed");
        }
        long[] next = new long[IndexLayout.MAX_LEVEL];
        for (int l = 0; l < level; l++) {
            next[l] = s.predNodes()[l].next()[l];
        }
        long pointer = IndexLayout.pointer(gen, node);
        writes.add(new Write(layout.indexNodeOffset(node),
                IndexLayout.encode(gen, level, IndexLayout.STATE_LINKED, slotRef, next, key)));
        for (int l = 0; l < level; l++) {
            writes.add(new Write(layout.indexNodeOffset(IndexLayout.node(s.preds()[l])) + IndexLayout.nextOffset(l),
                    word(pointer)));
        }
        apply(writes, op);
        freeHead = newFreeHead;
        bump = newBump;
        for (int l = 0; l < level; l++) {
            s.predNodes()[l].next()[l] = pointer;
        }
        cache.put(pointer, new IndexLayout.Node(gen, level, IndexLayout.STATE_LINKED, slotRef, 0, next, key));
    }

    /** The first write of every change: a new index version, so that other clients' caches are dropped. */
    private Write nextVersion() {
        return new Write(DirectLayout.INDEX_VERSION_OFFSET, word(version + 1));
    }

    /** Writes a change; the cache then describes the index again, or is dropped when the writes failed. */
    private void apply(List<Write> writes, TrafficCounter op) {
        try {
            replicas.writeAll(writes, op);
        } catch (RuntimeException e) {
            cache.clear();
            cachedVersion = -1;
            throw e;
        }
        version++;
        cachedVersion = version;
    }

    /** Removes {@code key} if it is there; the caller holds the index lock. */
    synchronized void remove(byte[] key, TrafficCounter op) {
        Search s = search(key, op);
        IndexLayout.Node n = s.foundNode();
        if (n == null || KeyOrder.UNSIGNED.compare(n.key(), key) != 0) {
            return;
        }
        long node = IndexLayout.node(s.found());
        List<Write> writes = new ArrayList<>();
        writes.add(nextVersion());
        for (int l = n.level() - 1; l >= 0; l--) {
            writes.add(new Write(layout.indexNodeOffset(IndexLayout.node(s.preds()[l])) + IndexLayout.nextOffset(l),
                    word(n.next()[l])));
        }
        // The header spans the free-list link (zero in encodeHeader): write the link after it, or the
        // free list would forget every freed node but the last.
        writes.add(new Write(layout.indexNodeOffset(node),
                IndexLayout.encodeHeader(n.gen(), n.level(), IndexLayout.STATE_FREE, n.slotRef(), n.key())));
        writes.add(new Write(layout.indexNodeOffset(node) + IndexLayout.FREE_NEXT_AT, word(freeHead)));
        writes.add(new Write(DirectLayout.INDEX_FREE_OFFSET, word(s.found())));
        apply(writes, op);
        freeHead = s.found();
        for (int l = 0; l < n.level(); l++) {
            s.predNodes()[l].next()[l] = n.next()[l];
        }
        cache.remove(s.found());
    }

    /**
     * Up to {@code max} keys starting with {@code prefix}, in order, after {@code after} (or from
     * the prefix when null). No lock: a node that changed under the walk sends it back to a search.
     */
    List<Entry> page(byte[] prefix, byte[] after, int max, TrafficCounter op) {
        byte[] from = after;
        List<Entry> out = new ArrayList<>();
        for (int restart = 0; restart < MAX_RESTARTS; restart++) {
            byte[] target = from != null ? from : prefix;
            boolean strictlyAfter = from != null;
            IndexLayout.Node x = follow(HEAD, op);
            if (x == null) {
                continue;
            }
            boolean broken = false;
            for (int l = IndexLayout.MAX_LEVEL - 1; l >= 0 && !broken; l--) {
                while (true) {
                    long next = x.next()[l];
                    if (next == 0) {
                        break;
                    }
                    IndexLayout.Node n = follow(next, op);
                    if (n == null) {
                        broken = true;
                        break;
                    }
                    int c = KeyOrder.UNSIGNED.compare(n.key(), target);
                    if (c < 0 || (strictlyAfter && c == 0)) {
                        x = n;
                    } else {
                        break;
                    }
                }
            }
            if (broken) {
                continue;
            }
            byte[] last = from;
            long next = x.next()[0];
            ReadAhead window = new ReadAhead();
            while (next != 0 && out.size() < max) {
                IndexLayout.Node n = window.follow(next, op);
                if (n == null || (last != null && KeyOrder.UNSIGNED.compare(n.key(), last) <= 0)) {
                    broken = true;
                    break;
                }
                if (!KeyOrder.hasPrefix(n.key(), prefix)) {
                    return out;
                }
                out.add(new Entry(n.key(), n.slotRef()));
                last = n.key();
                next = n.next()[0];
            }
            if (!broken) {
                return out;
            }
            from = last;
        }
        throw new StoreUnavailableException("the key index kept changing under a scan for " + MAX_RESTARTS + " searches");
    }

    /**
     * Nodes read ahead along a walk of level 0: one READ fetches a node and the ones after it in
     * memory, and keys created in order sit next to each other there. A node taken from the window
     * is checked like any other; it is only as old as the READ, which began after the scan did.
     */
    private final class ReadAhead {
        private long first = -1;
        private int count;
        private byte[] bytes;

        IndexLayout.Node follow(long pointer, TrafficCounter op) {
            long node = IndexLayout.node(pointer);
            if (bytes == null || node < first || node >= first + count) {
                count = (int) Math.min(READ_AHEAD_NODES, layout.indexNodes() - node);
                first = node;
                bytes = replicas.readPrimary(layout.indexNodeOffset(node), count * layout.nodeBytes(), op);
            }
            int at = (int) (node - first) * layout.nodeBytes();
            IndexLayout.Node n = IndexLayout.decode(Arrays.copyOfRange(bytes, at, at + layout.nodeBytes()),
                    layout.maxKeyBytes());
            if (n == null) {
                bytes = null;   // torn: read that node alone, again
                return KeyIndex.this.follow(pointer, op);
            }
            if (n.gen() != IndexLayout.gen(pointer) || n.state() != IndexLayout.STATE_LINKED) {
                return null;
            }
            return n;
        }
    }

    /**
     * After the index lock was taken from a client that died holding it, what that client wrote may
     * not be durable, and the backups may lag the primary by a partly written change: copy the
     * index from the primary to every replica, durably (with one replica, flush it).
     */
    synchronized void resync(TrafficCounter op) {
        cache.clear();
        cachedVersion = -1;
        byte[] header = replicas.readPrimary(DirectLayout.INDEX_BUMP_OFFSET, 16, op);
        long bump = (long) DirectLayout.LONG.get(header, 0);
        if (layout.replication() == 1) {
            replicas.flushAll(DirectLayout.INDEX_LOCK_OFFSET, layout.indexNodeOffset(bump) - DirectLayout.INDEX_LOCK_OFFSET, op);
            return;
        }
        List<Write> writes = new ArrayList<>();
        writes.add(new Write(DirectLayout.INDEX_BUMP_OFFSET, header));
        long end = layout.indexNodeOffset(bump);
        int chunk = 1 << 20;
        for (long at = layout.indexNodeOffset(0); at < end; at += chunk) {
            int length = (int) Math.min(chunk, end - at);
            writes.add(new Write(at, replicas.readPrimary(at, length, op)));
            if (writes.size() == 4) {
                replicas.writeAll(writes, op);
                writes.clear();
            }
        }
        if (!writes.isEmpty()) {
            replicas.writeAll(writes, op);
        }
    }

    private static byte[] word(long value) {
        byte[] b = new byte[8];
        DirectLayout.LONG.set(b, 0, value);
        return b;
    }
}
