package org.pdpm.core.rpc;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.pool.PoolLayout;
import org.pdpm.rdma.api.NodeAddress;

/**
 * A {@link MetadataService} behind a {@link MetadataRpcServer}. Thread-safe: each call takes one of
 * a few connections for its round trip, so that many threads are not serialized behind one slow
 * call. A connection is opened on first use and again on the first call after it broke, so a
 * client outlives a restart of the server without being told.
 *
 * <p>While the server cannot be reached, a call fails with a {@link StoreUnavailableException}
 * naming the server's address and what the call was for; service errors arrive as the exception
 * type and message the server threw. A call is never repeated behind the caller's back: one that
 * broke after it was sent may or may not have been carried out.
 */
public final class RemoteMetadataService implements MetadataService, AutoCloseable {

    /**
     * @param secret      the server's shared secret, or null when it requires none
     * @param connectTimeout bound on TCP connect plus handshake
     * @param callTimeout bound on waiting for one call's result; a server that grants space may
     *                    wait out the grace period of reclaimed blocks before it answers
     * @param connections connections kept open at most: calls beyond that many at once wait
     */
    public record Options(String secret, Duration connectTimeout, Duration callTimeout, int connections) {
        public Options {
            if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length > MetadataRpcLayout.MAX_SECRET_BYTES) {
                throw new IllegalArgumentException("secret is longer than " + MetadataRpcLayout.MAX_SECRET_BYTES + " bytes");
            }
            checkMillis("connectTimeout", connectTimeout);
            checkMillis("callTimeout", callTimeout);
            if (connections < 1 || connections > MAX_CONNECTIONS) {
                throw new IllegalArgumentException("connections=" + connections + " is outside 1.." + MAX_CONNECTIONS);
            }
        }

        private static void checkMillis(String name, Duration d) {
            if (d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + "=" + d + " must be positive and at most "
                        + Integer.MAX_VALUE + " ms");
            }
        }

        /** 5 s to connect, 60 s per call, 4 connections. */
        public static Options withSecret(String secret) {
            return new Options(secret, Duration.ofSeconds(5), Duration.ofSeconds(60), 4);
        }
    }

    /** A client that needs more metadata connections than this is better served by more clients. */
    public static final int MAX_CONNECTIONS = 64;

    private static final FramedRpcClient.Peer PEER = new FramedRpcClient.Peer("metadata server", "pDPM metadata server",
            MetadataRpcLayout.MAGIC, MetadataRpcLayout.VERSION, MetadataRpcLayout.MAX_BODY_BYTES);

    private final NodeAddress server;
    private final FramedRpcClient rpc;

    public RemoteMetadataService(NodeAddress server, Options options) {
        this.server = Objects.requireNonNull(server, "server");
        Objects.requireNonNull(options, "options");
        this.rpc = new FramedRpcClient(PEER, server, options.secret(), options.connectTimeout(), options.callTimeout(),
                options.connections());
    }

    public NodeAddress server() {
        return server;
    }

    @Override
    public PoolLayout pool() {
        return call("learn the pool layout", MetadataRpcLayout.POOL, w -> { }, MetadataCodec::getPool);
    }

    @Override
    public long registerClient() {
        return call("register a client", MetadataRpcLayout.REGISTER, w -> { }, FrameCursor::getLong);
    }

    @Override
    public KeyLocation lookup(byte[] key) {
        checkKey("key", key);
        return call("look up a key", MetadataRpcLayout.LOOKUP, w -> w.putKey(key),
                c -> MetadataCodec.getFlag(c) ? MetadataCodec.getLocation(c) : null);
    }

    @Override
    public KeyLocation create(byte[] key, long head) {
        checkKey("key", key);
        return call("create a key", MetadataRpcLayout.CREATE, w -> w.putKey(key).putLong(head),
                MetadataCodec::getLocation);
    }

    @Override
    public List<KeyLocation> createAll(List<byte[]> keys, long[] heads) {
        if (keys.size() != heads.length || keys.size() > MAX_CREATE_ALL) {
            throw new IllegalArgumentException("createAll takes as many heads as keys, at most " + MAX_CREATE_ALL
                    + "; given " + keys.size() + " keys and " + heads.length + " heads");
        }
        for (byte[] k : keys) {
            checkKey("key", k);
        }
        return call("create keys", MetadataRpcLayout.CREATE_ALL, w -> {
            w.putInt(keys.size());
            for (int i = 0; i < keys.size(); i++) {
                w.putKey(keys.get(i)).putLong(heads[i]);
            }
        }, c -> {
            List<KeyLocation> created = MetadataCodec.getLocations(c, keys.size(), "create");
            if (created.size() != keys.size()) {
                throw new MalformedFrameException("create result holds " + created.size() + " keys; " + keys.size()
                        + " were sent");
            }
            return created;
        });
    }

    @Override
    public BlockGrant grantBlock(long clientId) {
        return call("get space", MetadataRpcLayout.GRANT, w -> w.putLong(clientId), MetadataCodec::getGrant);
    }

    @Override
    public void sealBlock(long clientId, BlockGrant block, int usedBytes) {
        call("seal a block", MetadataRpcLayout.SEAL, w -> {
            w.putLong(clientId);
            MetadataCodec.putGrant(w, block);
            w.putInt(usedBytes);
        }, c -> null);
    }

    @Override
    public List<KeyLocation> scan(byte[] prefix, byte[] after, int limit) {
        checkKey("prefix", prefix);
        if (after != null) {
            checkKey("after", after);
        }
        MetadataRpcServer.checkScanLimit(limit);
        return call("scan keys", MetadataRpcLayout.SCAN, w -> {
            w.putKey(prefix).putByte(after == null ? 0 : 1);
            if (after != null) {
                w.putKey(after);
            }
            w.putInt(limit);
        }, c -> MetadataCodec.getLocations(c, limit, "scan"));
    }

    @Override
    public void retire(byte[] key, long superseded, long tail, long tailSeq) {
        checkKey("key", key);
        call("retire a version", MetadataRpcLayout.RETIRE,
                w -> w.putKey(key).putLong(superseded).putLong(tail).putLong(tailSeq), c -> null);
    }

    @Override
    public int createLineage() {
        return call("create a lineage", MetadataRpcLayout.NEW_LINEAGE, w -> { }, FrameCursor::getInt);
    }

    @Override
    public int fork(int lineage, long epoch) {
        return call("fork a lineage", MetadataRpcLayout.FORK, w -> w.putInt(lineage).putLong(epoch),
                FrameCursor::getInt);
    }

    @Override
    public LineageInfo lineage(int lineage) {
        return call("describe a lineage", MetadataRpcLayout.LINEAGE, w -> w.putInt(lineage),
                MetadataCodec::getLineage);
    }

    @Override
    public void dropLineage(int lineage) {
        call("drop a lineage", MetadataRpcLayout.DROP_LINEAGE, w -> w.putInt(lineage), c -> null);
    }

    @Override
    public void pin(int lineage, long epoch, String owner) {
        byte[] utf8 = MetadataCodec.ownerBytes(owner);
        call("pin an epoch", MetadataRpcLayout.PIN,
                w -> MetadataCodec.putOwner(w.putInt(lineage).putLong(epoch), utf8), c -> null);
    }

    @Override
    public void unpin(int lineage, long epoch, String owner) {
        byte[] utf8 = MetadataCodec.ownerBytes(owner);
        call("unpin an epoch", MetadataRpcLayout.UNPIN,
                w -> MetadataCodec.putOwner(w.putInt(lineage).putLong(epoch), utf8), c -> null);
    }

    /** Fails with an {@link IllegalStateException} when more pins are held than one reply carries. */
    @Override
    public List<Pin> pins() {
        return call("list the pins", MetadataRpcLayout.PINS, w -> { }, MetadataCodec::getPins);
    }

    @Override
    public Membership membership() {
        return call("learn the membership", MetadataRpcLayout.MEMBERSHIP, w -> { }, MetadataCodec::getMembership);
    }

    @Override
    public Membership reportUnreachable(int node) {
        return call("report node " + node + " unreachable", MetadataRpcLayout.REPORT_UNREACHABLE,
                w -> w.putInt(node), MetadataCodec::getMembership);
    }

    private static void checkKey(String name, byte[] key) {
        Objects.requireNonNull(key, name);
        if (key.length > MetadataRpcLayout.MAX_KEY_BYTES) {
            throw new IllegalArgumentException(name + " length=" + key.length + " exceeds MAX_KEY_BYTES="
                    + MetadataRpcLayout.MAX_KEY_BYTES);
        }
    }

    private <T> T call(String what, byte method, FramedRpcClient.Arguments arguments,
                       FramedRpcClient.Result<T> result) {
        return rpc.call(what, method, arguments, result);
    }

    /** Closes every connection; calls made afterwards fail. */
    @Override
    public void close() {
        rpc.close();
    }

    @Override
    public String toString() {
        return "RemoteMetadataService[" + server + "]";
    }
}
