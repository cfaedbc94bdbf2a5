package org.pdpm.core.rpc;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.central.CoordinatorService;
import org.pdpm.rdma.api.NodeAddress;

/**
 * A pDPM-Central coordinator behind a {@link CoordinatorRpcServer}. Thread-safe: each call takes one
 * of a few connections for its round trip. A connection is opened on first use and again on the
 * first call after it broke, so a client outlives a restart of the coordinator without being told.
 *
 * <p>While the coordinator cannot be reached, a call fails with a {@link StoreUnavailableException}
 * naming its address and what the call was for; the coordinator's own errors arrive as the exception
 * type and message it threw. A call is never repeated behind the caller's back: a PUT or DELETE that
 * broke after it was sent may or may not have been carried out.
 */
public final class RemoteCoordinator implements CoordinatorService, AutoCloseable {

    /**
     * @param secret         the coordinator's shared secret, or null when it requires none
     * @param connectTimeout bound on TCP connect plus handshake
     * @param callTimeout    bound on waiting for one call's result
     * @param connections    connections kept open at most: calls beyond that many at once wait
     */
    public record Options(String secret, Duration connectTimeout, Duration callTimeout, int connections) {
        public Options {
            if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length > CoordinatorRpcLayout.MAX_SECRET_BYTES) {
                throw new IllegalArgumentException("secret is longer than " + CoordinatorRpcLayout.MAX_SECRET_BYTES
                        + " bytes");
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

        /** 5 s to connect, 30 s per call, 8 connections (every request of Central goes through them). */
        public static Options withSecret(String secret) {
            return new Options(secret, Duration.ofSeconds(5), Duration.ofSeconds(30), 8);
        }
    }

    public static final int MAX_CONNECTIONS = 256;

    private static final FramedRpcClient.Peer PEER = new FramedRpcClient.Peer("coordinator", "pDPM-Central coordinator",
            CoordinatorRpcLayout.MAGIC, CoordinatorRpcLayout.VERSION, CoordinatorRpcLayout.MAX_BODY_BYTES);

    private final NodeAddress server;
    private final FramedRpcClient rpc;

    public RemoteCoordinator(NodeAddress server, Options options) {
        this.server = Objects.requireNonNull(server, "server");
        Objects.requireNonNull(options, "options");
        this.rpc = new FramedRpcClient(PEER, server, options.secret(), options.connectTimeout(), options.callTimeout(),
                options.connections());
    }

    public NodeAddress server() {
        return server;
    }

    @Override
    public Info info() {
        return call("learn the pool's bounds", CoordinatorRpcLayout.INFO, w -> { }, c -> {
            UUID id = new UUID(c.getLong(), c.getLong());
            int nodeCount = c.getInt();
            int replication = c.getInt();
            int maxKey = c.getInt();
            int maxValue = c.getInt();
            try {
                return new Info(id, nodeCount, replication, new KvLimits(maxKey, maxValue));
            } catch (IllegalArgumentException e) {
                throw new MalformedFrameException("bounds are inconsistent: " + e.getMessage());
            }
        });
    }

    @Override
    public Read get(byte[] key) {
        checkKey("key", key);
        return call("get a key", CoordinatorRpcLayout.GET, w -> w.putKey(key), c -> {
            byte[] value = MetadataCodec.getFlag(c) ? CoordinatorCodec.getValue(c) : null;
            return new Read(value, CoordinatorCodec.getCost(c));
        });
    }

    @Override
    public Cost put(byte[] key, byte[] value) {
        checkKey("key", key);
        Objects.requireNonNull(value, "value");
        if (value.length > CoordinatorRpcLayout.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("value length=" + value.length + " exceeds MAX_VALUE_BYTES="
                    + CoordinatorRpcLayout.MAX_VALUE_BYTES);
        }
        return call("put a key", CoordinatorRpcLayout.PUT, w -> CoordinatorCodec.putValue(w.putKey(key), value),
                CoordinatorCodec::getCost);
    }

    @Override
    public Written putIfAbsent(byte[] key, byte[] value) {
        checkKey("key", key);
        Objects.requireNonNull(value, "value");
        if (value.length > CoordinatorRpcLayout.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("value length=" + value.length + " exceeds MAX_VALUE_BYTES="
                    + CoordinatorRpcLayout.MAX_VALUE_BYTES);
        }
        return call("put an absent key", CoordinatorRpcLayout.PUT_IF_ABSENT,
                w -> CoordinatorCodec.putValue(w.putKey(key), value),
                c -> new Written(MetadataCodec.getFlag(c), CoordinatorCodec.getCost(c)));
    }

    @Override
    public Cost delete(byte[] key) {
        checkKey("key", key);
        return call("delete a key", CoordinatorRpcLayout.DELETE, w -> w.putKey(key), CoordinatorCodec::getCost);
    }

    @Override
    public Page scan(byte[] prefix, byte[] after, int limit) {
        checkKey("prefix", prefix);
        if (after != null) {
            checkKey("after", after);
        }
        if (limit < 1 || limit > CoordinatorRpcLayout.MAX_SCAN_LIMIT) {
            throw new IllegalArgumentException("limit=" + limit + " is outside 1..MAX_SCAN_LIMIT="
                    + CoordinatorRpcLayout.MAX_SCAN_LIMIT);
        }
        return call("scan keys", CoordinatorRpcLayout.SCAN, w -> {
            w.putKey(prefix).putByte(after == null ? 0 : 1);
            if (after != null) {
                w.putKey(after);
            }
            w.putInt(limit);
        }, c -> {
            boolean more = MetadataCodec.getFlag(c);
            int n = c.getInt();
            if (n < 0 || n > limit) {
                throw new MalformedFrameException("scan result holds " + Integer.toUnsignedString(n) + " entries; "
                        + limit + " were asked for");
            }
            List<KvEntry> entries = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                entries.add(new KvEntry(c.getKey(), CoordinatorCodec.getValue(c)));
            }
            return new Page(entries, more, CoordinatorCodec.getCost(c));
        });
    }

    @Override
    public Membership membership() {
        return call("learn the membership", CoordinatorRpcLayout.MEMBERSHIP, w -> { }, c -> {
            long version = c.getLong();
            int n = c.getInt();
            if (n < 0 || n > CoordinatorRpcLayout.MAX_OUT_NODES) {
                throw new MalformedFrameException("membership names " + Integer.toUnsignedString(n) + " nodes out");
            }
            List<Integer> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(c.getInt());
            }
            return new Membership(version, out);
        });
    }

    private static void checkKey(String name, byte[] key) {
        if (key == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (key.length > CoordinatorRpcLayout.MAX_KEY_BYTES) {
            throw new IllegalArgumentException(name + " length=" + key.length + " exceeds MAX_KEY_BYTES="
                    + CoordinatorRpcLayout.MAX_KEY_BYTES);
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
        return "RemoteCoordinator[" + server + "]";
    }
}
