package org.pdpm.core.rpc;

import org.pdpm.core.api.Lineages;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.clover.MetadataService.BlockGrant;
import org.pdpm.core.clover.MetadataService.EpochRange;
import org.pdpm.core.clover.MetadataService.KeyLocation;
import org.pdpm.core.clover.MetadataService.LineageInfo;
import org.pdpm.core.clover.MetadataService.Membership;
import org.pdpm.core.api.Lineages.Pin;
import org.pdpm.core.pool.PoolLayout;

/** The compound values and the errors of {@link MetadataRpcLayout}, field by field. */
final class MetadataCodec {

    private MetadataCodec() {}

    static void putPool(FrameWriter w, PoolLayout p) {
        w.putLong(p.poolId().getMostSignificantBits()).putLong(p.poolId().getLeastSignificantBits())
                .putInt(p.nodeCount()).putInt(p.replication()).putLong(p.regionBytes()).putLong(p.logOffset())
                .putLong(p.logBytes()).putLong(p.maxKeys()).putLong(p.dataOffset()).putInt(p.blockBytes());
    }

    static PoolLayout getPool(FrameCursor c) throws MalformedFrameException {
        UUID poolId = new UUID(c.getLong(), c.getLong());
        int nodeCount = c.getInt();
        int replication = c.getInt();
        long regionBytes = c.getLong();
        long logOffset = c.getLong();
        long logBytes = c.getLong();
        long maxKeys = c.getLong();
        long dataOffset = c.getLong();
        int blockBytes = c.getInt();
        try {
            return new PoolLayout(poolId, nodeCount, replication, regionBytes, logOffset, logBytes, maxKeys, dataOffset,
                    blockBytes);
        } catch (IllegalArgumentException e) {
            throw new MalformedFrameException("pool layout is inconsistent: " + e.getMessage());
        }
    }

    static void putLocation(FrameWriter w, KeyLocation l) {
        w.putKey(l.key()).putLong(l.head()).putLong(l.tail()).putByte(l.created() ? 1 : 0);
    }

    static KeyLocation getLocation(FrameCursor c) throws MalformedFrameException {
        return new KeyLocation(c.getKey(), c.getLong(), c.getLong(), getFlag(c));
    }

    /** A count, then the locations: a SCAN's page or a CREATE_ALL's answer. */
    static void putLocations(FrameWriter w, List<KeyLocation> locations) {
        w.putInt(locations.size());
        for (KeyLocation l : locations) {
            putLocation(w, l);
        }
    }

    /** What {@link #putLocations} wrote; {@code what} names the call when the count is not in 0..max. */
    static List<KeyLocation> getLocations(FrameCursor c, int max, String what) throws MalformedFrameException {
        int n = c.getInt();
        if (n < 0 || n > max) {
            throw new MalformedFrameException(what + " result holds " + n + " keys; at most " + max + " were asked for");
        }
        List<KeyLocation> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(getLocation(c));
        }
        return out;
    }

    /** Fails with an {@link IllegalStateException} when the lineage has more ranges than a reply carries. */
    static void putLineage(FrameWriter w, LineageInfo l) {
        List<EpochRange> sees = l.sees();
        if (sees.size() > MetadataRpcLayout.MAX_LINEAGE_RANGES) {
            throw new IllegalStateException("lineage " + l.id() + " sees " + sees.size() + " ranges; a reply carries at"
                    + " most MAX_LINEAGE_RANGES=" + MetadataRpcLayout.MAX_LINEAGE_RANGES);
        }
        w.putInt(l.id()).putByte(l.live() ? 1 : 0).putInt(sees.size());
        for (EpochRange r : sees) {
            w.putInt(r.lineage()).putLong(r.maxEpoch());
        }
    }

    static LineageInfo getLineage(FrameCursor c) throws MalformedFrameException {
        int id = c.getInt();
        boolean live = getFlag(c);
        int n = getCount(c, MetadataRpcLayout.MAX_LINEAGE_RANGES, "ranges");
        List<EpochRange> sees = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            sees.add(new EpochRange(c.getInt(), c.getLong()));
        }
        return new LineageInfo(id, live, sees);
    }

    /**
     * Fails with an {@link IllegalStateException} when there are more pins than a reply carries, or
     * an owner no PIN could have carried; the frame is then rewritten as an ERROR.
     */
    static void putPins(FrameWriter w, List<Pin> pins) {
        if (pins.size() > MetadataRpcLayout.MAX_PINS) {
            throw new IllegalStateException(pins.size() + " pins are held; a reply carries at most MAX_PINS="
                    + MetadataRpcLayout.MAX_PINS);
        }
        w.putInt(pins.size());
        for (Pin p : pins) {
            byte[] owner;
            try {
                owner = ownerBytes(p.owner());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("the pin of lineage " + p.lineage() + " at epoch " + p.epoch()
                        + " cannot be sent: " + e.getMessage());
            }
            putOwner(w.putInt(p.lineage()).putLong(p.epoch()), owner);
        }
    }

    static List<Pin> getPins(FrameCursor c) throws MalformedFrameException {
        int n = getCount(c, MetadataRpcLayout.MAX_PINS, "pins");
        List<Pin> pins = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            pins.add(new Pin(c.getInt(), c.getLong(), getOwner(c)));
        }
        return pins;
    }

    /** Fails with an {@link IllegalStateException} when more nodes are out than a reply carries. */
    static void putMembership(FrameWriter w, Membership m) {
        List<Integer> out = m.outNodes();
        if (out.size() > MetadataRpcLayout.MAX_OUT_NODES) {
            throw new IllegalStateException(out.size() + " nodes are out of service in membership version "
                    + m.version() + "; a reply carries at most MAX_OUT_NODES=" + MetadataRpcLayout.MAX_OUT_NODES);
        }
        w.putLong(m.version()).putInt(out.size());
        for (int node : out) {
            w.putInt(node);
        }
    }

    static Membership getMembership(FrameCursor c) throws MalformedFrameException {
        long version = c.getLong();
        int n = getCount(c, MetadataRpcLayout.MAX_OUT_NODES, "out nodes");
        List<Integer> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(c.getInt());
        }
        return new Membership(version, out);
    }

    /**
     * The owner as it travels: well-formed UTF-8 of at most {@link Lineages#MAX_PIN_OWNER_BYTES},
     * checked strictly because a replaced character would name another owner.
     */
    static byte[] ownerBytes(String owner) {
        String bound = "MAX_PIN_OWNER_BYTES=" + Lineages.MAX_PIN_OWNER_BYTES;
        if (owner == null) {
            throw new IllegalArgumentException("owner is null; a pin's owner is a string of at most " + bound
                    + " UTF-8 bytes");
        }
        ByteBuffer utf8;
        try {
            utf8 = StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(owner));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("owner has an unpaired surrogate, which UTF-8 cannot carry");
        }
        if (utf8.remaining() > Lineages.MAX_PIN_OWNER_BYTES) {
            throw new IllegalArgumentException("owner is " + utf8.remaining() + " UTF-8 bytes, more than " + bound);
        }
        byte[] b = new byte[utf8.remaining()];
        utf8.get(b);
        return b;
    }

    static void putOwner(FrameWriter w, byte[] owner) {
        w.putByte(owner.length).putBytes(owner);
    }

    static String getOwner(FrameCursor c) throws MalformedFrameException {
        byte[] utf8 = c.getBytes(Byte.toUnsignedInt(c.getByte()));
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedFrameException("pin owner is not UTF-8");
        }
    }

    private static int getCount(FrameCursor c, int max, String what) throws MalformedFrameException {
        int n = c.getInt();
        if (n < 0 || n > max) {
            throw new MalformedFrameException("result holds " + Integer.toUnsignedString(n) + " " + what
                    + "; a reply carries at most " + max);
        }
        return n;
    }

    static void putGrant(FrameWriter w, BlockGrant g) {
        w.putInt(g.group()).putLong(g.offset()).putInt(g.bytes());
    }

    static BlockGrant getGrant(FrameCursor c) throws MalformedFrameException {
        return new BlockGrant(c.getInt(), c.getLong(), c.getInt());
    }

    static boolean getFlag(FrameCursor c) throws MalformedFrameException {
        byte b = c.getByte();
        if (b != 0 && b != 1) {
            throw new MalformedFrameException("flag byte " + b + " is neither 0 nor 1");
        }
        return b == 1;
    }
}
