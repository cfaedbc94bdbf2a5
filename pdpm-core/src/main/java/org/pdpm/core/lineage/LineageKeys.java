package org.pdpm.core.lineage;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Where the lineage layer keeps everything in the store it runs on: keys under one reserved first
 * byte, big-endian numbers so that keys sort by lineage, epoch and user key.
 *
 * <pre>
 *  catalog
 *   FD 'L' | lineage u32                          -> lineage record: state, parent, fork epoch
 *   FD 'P' | lineage u32 | epoch u64 | owner utf8 -> empty: a pin
 *   FD 'F' | lineage u32 | epoch u64              -> empty: a fork was made at this point
 *   FD 'E' | lineage u32                          -> writer epoch u64: the epoch its writer writes in
 *  data
 *   FD 'D' | lineage u32 | user key               -> version: the lineage's current record of the key
 *   FD 'V' | lineage u32 | esc(user key) | 00 01 | epoch u64
 *                                                 -> version: a preserved record, current from epoch
 *                                                    until the next version of the key in the lineage
 *  esc: every 00 byte of the user key becomes 00 FF, so that esc(k) | 00 01 sorts as k does and a
 *  prefix of user keys stays a prefix of preserved keys.
 * </pre>
 */
final class LineageKeys {

    static final byte NAMESPACE = (byte) 0xFD;
    static final byte LINEAGE = 'L';
    static final byte PIN = 'P';
    static final byte FORK = 'F';
    static final byte WRITER_EPOCH = 'E';
    static final byte DATA = 'D';
    static final byte VERSION = 'V';

    /** Namespace, kind and lineage: the bytes before a user key. */
    static final int HEADER_BYTES = 2 + 4;
    private static final int EPOCH_BYTES = 8;
    private static final int TERMINATOR_BYTES = 2;

    private LineageKeys() {}

    /** The longest user key whose preserved key (every byte escaped) still fits {@code storeMaxKeyBytes}. */
    static int maxUserKeyBytes(int storeMaxKeyBytes) {
        return (storeMaxKeyBytes - HEADER_BYTES - TERMINATOR_BYTES - EPOCH_BYTES) / 2;
    }

    static byte[] kind(byte kind) {
        return new byte[] {NAMESPACE, kind};
    }

    static byte[] ofLineage(byte kind, int lineage) {
        return ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN).put(NAMESPACE).put(kind).putInt(lineage)
                .array();
    }

    static byte[] atPoint(byte kind, int lineage, long epoch) {
        return ByteBuffer.allocate(HEADER_BYTES + EPOCH_BYTES).order(ByteOrder.BIG_ENDIAN).put(NAMESPACE).put(kind)
                .putInt(lineage).putLong(epoch).array();
    }

    static byte[] pin(int lineage, long epoch, byte[] owner) {
        return concat(atPoint(PIN, lineage, epoch), owner);
    }

    static byte[] data(int lineage, byte[] userKey) {
        return concat(ofLineage(DATA, lineage), userKey);
    }

    /** Every preserved key of {@code lineage} whose user key starts with {@code userPrefix}. */
    static byte[] versionPrefix(int lineage, byte[] userPrefix) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ofLineage(VERSION, lineage));
        escape(userPrefix, out);
        return out.toByteArray();
    }

    /** Every preserved key of exactly {@code userKey} in {@code lineage}, oldest epoch first. */
    static byte[] versionsOf(int lineage, byte[] userKey) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(versionPrefix(lineage, userKey));
        out.write(0);
        out.write(1);
        return out.toByteArray();
    }

    static byte[] version(int lineage, byte[] userKey, long epoch) {
        return concat(versionsOf(lineage, userKey),
                ByteBuffer.allocate(EPOCH_BYTES).order(ByteOrder.BIG_ENDIAN).putLong(epoch).array());
    }

    static int lineageOf(byte[] key) {
        return ByteBuffer.wrap(key, 2, 4).order(ByteOrder.BIG_ENDIAN).getInt();
    }

    static long epochOf(byte[] pointKey) {
        return ByteBuffer.wrap(pointKey, HEADER_BYTES, EPOCH_BYTES).order(ByteOrder.BIG_ENDIAN).getLong();
    }

    static byte[] ownerOf(byte[] pinKey) {
        return Arrays.copyOfRange(pinKey, HEADER_BYTES + EPOCH_BYTES, pinKey.length);
    }

    static byte[] userKeyOfData(byte[] dataKey) {
        return Arrays.copyOfRange(dataKey, HEADER_BYTES, dataKey.length);
    }

    /** A preserved key's user key and epoch. */
    record VersionKey(byte[] userKey, long epoch) {}

    static VersionKey parseVersion(byte[] key) {
        ByteArrayOutputStream user = new ByteArrayOutputStream();
        int i = HEADER_BYTES;
        while (true) {
            if (i + 1 >= key.length) {
                throw new IllegalStateException("preserved key of " + key.length + " bytes has no terminator");
            }
            if (key[i] != 0) {
                user.write(key[i++]);
            } else if (key[i + 1] == (byte) 0xFF) {
                user.write(0);
                i += 2;
            } else {
                i += 2;
                break;
            }
        }
        if (key.length - i != EPOCH_BYTES) {
            throw new IllegalStateException("preserved key has " + (key.length - i) + " bytes after its user key, not "
                    + EPOCH_BYTES);
        }
        return new VersionKey(user.toByteArray(), ByteBuffer.wrap(key, i, EPOCH_BYTES).order(ByteOrder.BIG_ENDIAN).getLong());
    }

    private static void escape(byte[] userKey, ByteArrayOutputStream out) {
        for (byte b : userKey) {
            out.write(b);
            if (b == 0) {
                out.write(0xFF);
            }
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static byte[] epochBytes(long epoch) {
        return ByteBuffer.allocate(EPOCH_BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(epoch).array();
    }

    static long epochFrom(byte[] value) {
        if (value.length != EPOCH_BYTES) {
            throw new IllegalStateException("writer epoch record has " + value.length + " bytes, not " + EPOCH_BYTES);
        }
        return ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
