package org.pdpm.core.direct;

import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.pool.PoolNodes;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.RoundTrip;
import org.pdpm.rdma.api.TrafficCounter;

/**
 * Opening a pDPM-Direct pool, or formatting a blank one. Formatting is claimed by a CAS on node 0's
 * claim word, so of many clients starting on blank nodes exactly one formats and the others wait
 * for its magic; a claim left unchanged for the claim lease (a formatter that died) is taken over
 * and the format done again from the start. The magic goes last, node 0's after every other node's,
 * so a node with a magic holds a whole superblock and a pool whose node 0 has one is whole.
 */
final class PoolFormat {

    private static final long GIVE_UP_NANOS = TimeUnit.SECONDS.toNanos(120);

    private PoolFormat() {
    }

    static DirectLayout openOrFormat(PoolNodes nodes, LongFunction<DirectLayout> plan, LongSupplier clock,
                                     long claimLeaseNanos) {
        long mine = 1 + (new SecureRandom().nextLong() & Long.MAX_VALUE - 1);
        long watched = 0;
        long since = 0;
        long start = clock.getAsLong();
        TrafficCounter traffic = new TrafficCounter();
        while (true) {
            byte[][] superblocks = readSuperblocks(nodes, traffic);
            DirectLayout existing = existing(nodes, superblocks);
            if (existing != null) {
                return existing;
            }
            for (int n = 0; n < superblocks.length; n++) {
                if (superblocks[n] != null && (long) DirectLayout.LONG.get(superblocks[n], 0) != 0) {
                    throw new IllegalStateException("memory node " + nodes.address(n) + " holds something other than a"
                            + " pDPM-Direct pool (its first word is not Direct's magic); give blank nodes or the nodes"
                            + " of a Direct pool");
                }
            }
            if (superblocks[0] == null) {
                throw new StoreUnavailableException("memory node " + nodes.address(0) + " cannot be reached: a new pool is"
                        + " formatted through node 0");
            }
            long claim = DirectLayout.formatClaim(superblocks[0]);
            long now = clock.getAsLong();
            if (claim == 0 || (claim == watched && now - since >= claimLeaseNanos)) {
                if (nodes.connection(0).compareAndSwap(nodes.region(0), DirectLayout.FORMAT_CLAIM_OFFSET, claim, mine) == claim) {
                    DirectLayout formatted = format(nodes, superblocks, plan, mine);
                    if (formatted != null) {
                        return formatted;
                    }
                }
            } else if (claim != watched) {
                watched = claim;
                since = now;
            }
            if (now - start > GIVE_UP_NANOS) {
                throw new StoreUnavailableException("the pool on " + nodes.address(0) + " is being formatted by another"
                        + " client that neither finished nor let go within " + TimeUnit.NANOSECONDS.toSeconds(GIVE_UP_NANOS) + " s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    private static byte[][] readSuperblocks(PoolNodes nodes, TrafficCounter traffic) {
        byte[][] out = new byte[nodes.size()][];
        RoundTrip rt = RoundTrip.on(traffic);
        int[] asked = new int[nodes.size()];
        int count = 0;
        for (int n = 0; n < nodes.size(); n++) {
            if (!nodes.isConnected(n)) {
                continue;
            }
            Batch b = new Batch(1);
            b.read(nodes.region(n), 0, DirectLayout.SUPERBLOCK_USED_BYTES);
            rt.post(nodes.connection(n), b);
            asked[count++] = n;
        }
        List<RoundTrip.Outcome> outcomes = rt.awaitEach();
        for (int i = 0; i < count; i++) {
            RoundTrip.Outcome o = outcomes.get(i);
            if (o.succeeded()) {
                out[asked[i]] = o.result().bytes(0);
            } else if (!PoolNodes.isUnreachable(o.failure())) {
                throw new StoreUnavailableException("memory node " + nodes.address(asked[i]) + " refused to show its"
                        + " superblock: " + o.failure().getMessage(), o.failure());
            }
        }
        return out;
    }

    /** The pool the nodes hold, checked for consistency; null when none holds a magic. */
    private static DirectLayout existing(PoolNodes nodes, byte[][] superblocks) {
        DirectLayout found = null;
        for (int n = 0; n < superblocks.length; n++) {
            if (superblocks[n] == null || !DirectLayout.hasMagic(superblocks[n])) {
                continue;
            }
            DirectLayout.Decoded d = DirectLayout.decode(superblocks[n], "memory node " + nodes.address(n));
            if (d.layout().nodeCount() != nodes.size()) {
                throw new IllegalArgumentException("the pDPM-Direct pool on " + nodes.address(n) + " has "
                        + d.layout().nodeCount() + " memory nodes but this client was given " + nodes.size());
            }
            if (d.nodeIndex() != n) {
                throw new IllegalArgumentException("memory node " + nodes.address(n) + " is node " + d.nodeIndex()
                        + " of its pool but was given as node " + n + ": give the nodes in pool order");
            }
            if (found != null && !found.poolId().equals(d.layout().poolId())) {
                throw new IllegalArgumentException("memory nodes " + nodes.address(0) + "… belong to different pools ("
                        + found.poolId() + " and " + d.layout().poolId() + " on " + nodes.address(n) + ")");
            }
            if (d.layout().regionBytes() > nodes.region(n).sizeBytes()) {
                throw new IllegalStateException("memory node " + nodes.address(n) + " serves a region of "
                        + nodes.region(n).sizeBytes() + " bytes, smaller than its pool's " + d.layout().regionBytes());
            }
            found = d.layout();
        }
        return found;
    }

    /** The new pool's layout, or null when the claim was taken over before the magic went in. */
    private static DirectLayout format(PoolNodes nodes, byte[][] superblocks, LongFunction<DirectLayout> plan, long claim) {
        try {
            for (int n = 0; n < superblocks.length; n++) {
                if (superblocks[n] == null) {
                    throw new StoreUnavailableException("memory node " + nodes.address(n) + " cannot be reached: formatting"
                            + " a pool needs every one of its memory nodes");
                }
            }
            DirectLayout layout = plan.apply(nodes.smallestRegionBytes());
            TrafficCounter traffic = new TrafficCounter();
            RoundTrip rt = RoundTrip.on(traffic);
            byte[] membership = new byte[8];
            DirectLayout.LONG.set(membership, 0, Membership.View.initial().word());
            for (int n = 0; n < nodes.size(); n++) {
                byte[] sb = layout.encodeSuperblock(n);
                Batch b = new Batch(8);
                b.write(nodes.region(n), 8, sb, 8, (int) DirectLayout.FORMAT_CLAIM_OFFSET - 8);
                b.write(nodes.region(n), DirectLayout.MEMBERSHIP_OFFSET, membership);
                if (n < layout.replication()) {
                    for (KeyIndex.Write w : KeyIndex.formatWrites(layout)) {
                        b.write(nodes.region(n), w.offset(), w.bytes());
                    }
                }
                b.flush(nodes.region(n), 0, layout.indexNodeOffset(1));
                rt.post(nodes.connection(n), b);
            }
            rt.await();
            if (nodes.connection(0).compareAndSwap(nodes.region(0), DirectLayout.FORMAT_CLAIM_OFFSET, claim, claim) != claim) {
                return null;   // so slow that another client took the format over: its pool is the one
            }
            byte[] magic = new byte[8];
            DirectLayout.LONG.set(magic, 0, DirectLayout.MAGIC);
            RoundTrip others = RoundTrip.on(traffic);
            for (int n = 1; n < nodes.size(); n++) {
                Batch b = new Batch(2);
                b.write(nodes.region(n), 0, magic);
                b.flush(nodes.region(n), 0, 8);
                others.post(nodes.connection(n), b);
            }
            others.await();
            Batch b = new Batch(2);
            b.write(nodes.region(0), 0, magic);
            b.flush(nodes.region(0), 0, 8);
            nodes.connection(0).execute(b);
            return layout;
        } catch (RuntimeException e) {
            try {
                nodes.connection(0).compareAndSwap(nodes.region(0), DirectLayout.FORMAT_CLAIM_OFFSET, claim, 0);
            } catch (FabricException ignored) {
                // the claim is then taken over after its lease
            }
            throw e;
        }
    }
}
