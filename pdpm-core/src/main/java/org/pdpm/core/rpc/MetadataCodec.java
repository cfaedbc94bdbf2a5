package org.pdpm.core.rpc;

import java.util.UUID;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.clover.MetadataService.BlockGrant;
import org.pdpm.core.clover.MetadataService.KeyLocation;
import org.pdpm.core.pool.PoolLayout;
import org.pdpm.rdma.api.FabricException;

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
        w.putKey(l.key()).putLong(l.tail()).putByte(l.created() ? 1 : 0);
    }

    static KeyLocation getLocation(FrameCursor c) throws MalformedFrameException {
        return new KeyLocation(c.getKey(), c.getLong(), getFlag(c));
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

    /** The ERROR kind for what the service threw. */
    static byte kindOf(RuntimeException e) {
        if (e instanceof SpaceExhaustedException) {
            return MetadataRpcLayout.ERROR_SPACE_EXHAUSTED;
        }
        if (e instanceof IllegalArgumentException) {
            return MetadataRpcLayout.ERROR_ILLEGAL_ARGUMENT;
        }
        if (e instanceof IllegalStateException) {
            return MetadataRpcLayout.ERROR_ILLEGAL_STATE;
        }
        // The server's own memory nodes failing leaves it unable to answer now: the same to a client.
        if (e instanceof StoreUnavailableException || e instanceof FabricException) {
            return MetadataRpcLayout.ERROR_STORE_UNAVAILABLE;
        }
        return MetadataRpcLayout.ERROR_INTERNAL;
    }

    /** The message an ERROR carries: the exception's own, with the type for kinds that lose it. */
    static String messageOf(RuntimeException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        return switch (kindOf(e)) {
            case MetadataRpcLayout.ERROR_INTERNAL -> e.getClass().getName() + ": " + message;
            case MetadataRpcLayout.ERROR_STORE_UNAVAILABLE -> e instanceof FabricException
                    ? "the metadata server cannot reach its memory nodes: " + message : message;
            default -> message;
        };
    }

    /** The exception a client rethrows for an ERROR: the server's type and message. */
    static RuntimeException exceptionOf(byte kind, String message, String server) throws MalformedFrameException {
        return switch (kind) {
            case MetadataRpcLayout.ERROR_SPACE_EXHAUSTED -> new SpaceExhaustedException(message);
            case MetadataRpcLayout.ERROR_ILLEGAL_ARGUMENT -> new IllegalArgumentException(message);
            case MetadataRpcLayout.ERROR_ILLEGAL_STATE -> new IllegalStateException(message);
            case MetadataRpcLayout.ERROR_STORE_UNAVAILABLE -> new StoreUnavailableException(message);
            case MetadataRpcLayout.ERROR_INTERNAL -> new IllegalStateException("the metadata server at " + server
                    + " failed: " + message);
            default -> throw new MalformedFrameException("unknown error kind " + kind);
        };
    }
}
