package org.pdpm.core.linearizability;

import java.util.Objects;

/**
 * One client's call on one key as a history saw it: what it wrote or read, when it was invoked and
 * when it returned. Times come from one clock shared by every client of the history, so a call that
 * returned before another was invoked really did finish first. Equal times count as overlapping.
 *
 * <p>A call that never returned (its client crashed, or it threw) is <em>pending</em>: it may have
 * taken effect at any time after its invocation, or never. A pending GET says nothing and is ignored.
 *
 * @param value for PUT the value written, for GET the value observed (null = absent), for DELETE null
 */
public record Operation(int client, Kind kind, String key, String value, long invokedAt, long returnedAt) {

    /** The return time of a call whose outcome is unknown. */
    public static final long PENDING = Long.MAX_VALUE;

    public enum Kind { GET, PUT, DELETE }

    public Operation {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(key, "key");
        if (kind == Kind.PUT && value == null) {
            throw new IllegalArgumentException("a PUT needs a value: key=" + key);
        }
        if (kind == Kind.DELETE && value != null) {
            throw new IllegalArgumentException("a DELETE has no value: key=" + key + " value=" + value);
        }
        if (returnedAt < invokedAt) {
            throw new IllegalArgumentException("returnedAt=" + returnedAt + " is before invokedAt=" + invokedAt);
        }
    }

    /** A GET that returned {@code observed}, or null when the key was absent. */
    public static Operation get(int client, String key, String observed, long invokedAt, long returnedAt) {
        return new Operation(client, Kind.GET, key, observed, invokedAt, returnedAt);
    }

    public static Operation put(int client, String key, String value, long invokedAt, long returnedAt) {
        return new Operation(client, Kind.PUT, key, value, invokedAt, returnedAt);
    }

    public static Operation delete(int client, String key, long invokedAt, long returnedAt) {
        return new Operation(client, Kind.DELETE, key, null, invokedAt, returnedAt);
    }

    public static Operation pendingPut(int client, String key, String value, long invokedAt) {
        return put(client, key, value, invokedAt, PENDING);
    }

    public static Operation pendingDelete(int client, String key, long invokedAt) {
        return delete(client, key, invokedAt, PENDING);
    }

    public boolean isPending() {
        return returnedAt == PENDING;
    }

    /** This call, cut off at {@code time}: still pending if it had not returned by then. */
    Operation cutAt(long time) {
        return returnedAt <= time ? this : new Operation(client, kind, key, value, invokedAt, PENDING);
    }

    @Override
    public String toString() {
        String call = switch (kind) {
            case GET -> "get(" + key + ") -> " + (isPending() ? "?" : value == null ? "absent" : quoted(value));
            case PUT -> "put(" + key + ", " + quoted(value) + ")";
            case DELETE -> "delete(" + key + ")";
        };
        return "client " + client + " " + call + " [" + invokedAt + ".." + (isPending() ? "?" : returnedAt) + "]";
    }

    static String quoted(String value) {
        return '"' + value + '"';
    }
}
