package org.pdpm.flink.state;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.CompositeKeySerializationUtils;
import org.apache.flink.util.FlinkRuntimeException;

/**
 * Keys of state in the store: {@code [root 4][key group 2][state 4][key][namespace]([user key])}.
 * <p>
 * The root is the lineage a state's history began in (each fresh backend creates one; forks keep
 * their origin's), so independent jobs never share a key range and a scan never meets another
 * job's keys. The key group comes next, so that one key group of one state is one prefix. From the
 * key on, the bytes are Flink's composite-key format (lengths after key and namespace when both are
 * variable-sized), so that a canonical savepoint is these bytes behind Flink's key-group prefix.
 */
public final class StateKeys {

    public static final int ROOT_BYTES = 4;
    public static final int GROUP_BYTES = 2;
    public static final int STATE_BYTES = 4;
    /** Where Flink's composite key starts: after root, key group and state id. */
    public static final int HEADER_BYTES = ROOT_BYTES + GROUP_BYTES + STATE_BYTES;

    private StateKeys() {
    }

    /** {@code [root][key group][state]}: every key of one state in one key group. */
    public static byte[] groupPrefix(int root, int keyGroup, int stateId) {
        byte[] p = new byte[HEADER_BYTES];
        writeHeader(p, root, keyGroup, stateId);
        return p;
    }

    static void writeHeader(byte[] into, int root, int keyGroup, int stateId) {
        putInt(into, 0, root);
        into[4] = (byte) (keyGroup >>> 8);
        into[5] = (byte) keyGroup;
        putInt(into, 6, stateId);
    }

    public static int keyGroup(byte[] storeKey) {
        return ((storeKey[4] & 0xFF) << 8) | (storeKey[5] & 0xFF);
    }

    public static int stateId(byte[] storeKey) {
        return ((storeKey[6] & 0xFF) << 24) | ((storeKey[7] & 0xFF) << 16) | ((storeKey[8] & 0xFF) << 8)
                | (storeKey[9] & 0xFF);
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    /** Whether Flink's format writes lengths after key and namespace for these serializers. */
    public static boolean ambiguous(TypeSerializer<?> keySerializer, TypeSerializer<?> namespaceSerializer) {
        return CompositeKeySerializationUtils.isAmbiguousKeyPossible(keySerializer, namespaceSerializer);
    }

    /**
     * Builds the keys of one backend's current key; not thread-safe, like the backend's key context.
     * The key's bytes are serialized once per key change, not once per state access.
     */
    public static final class Builder<K> {
        private final TypeSerializer<K> keySerializer;
        private final boolean keyVariableSized;
        private final DataOutputSerializer out = new DataOutputSerializer(128);
        private byte[] keyBytes;
        private int root;
        private int keyGroup = -1;

        public Builder(TypeSerializer<K> keySerializer) {
            this.keySerializer = keySerializer;
            this.keyVariableSized = CompositeKeySerializationUtils.isSerializerTypeVariableSized(keySerializer);
        }

        public void setKey(K key, int keyGroup, int root) {
            try {
                out.clear();
                keySerializer.serialize(key, out);
                keyBytes = out.getCopyOfBuffer();
                this.keyGroup = keyGroup;
                this.root = root;
            } catch (IOException e) {
                throw new FlinkRuntimeException("cannot serialize key " + key, e);
            }
        }

        public int keyGroup() {
            return keyGroup;
        }

        /** The key of {@code namespace} of state {@code stateId} for the current key. */
        public <N> byte[] key(int stateId, N namespace, TypeSerializer<N> namespaceSerializer) {
            try {
                writeUpToNamespace(stateId, namespace, namespaceSerializer);
                return out.getCopyOfBuffer();
            } catch (IOException e) {
                throw new FlinkRuntimeException("cannot serialize namespace " + namespace, e);
            }
        }

        /** The key of {@code userKey} of a map state's {@code namespace}, for the current key. */
        public <N, UK> byte[] userKey(int stateId, N namespace, TypeSerializer<N> namespaceSerializer, UK userKey,
                                      TypeSerializer<UK> userKeySerializer) {
            try {
                writeUpToNamespace(stateId, namespace, namespaceSerializer);
                userKeySerializer.serialize(userKey, out);
                return out.getCopyOfBuffer();
            } catch (IOException e) {
                throw new FlinkRuntimeException("cannot serialize map key " + userKey, e);
            }
        }

        private <N> void writeUpToNamespace(int stateId, N namespace, TypeSerializer<N> namespaceSerializer)
                throws IOException {
            if (keyBytes == null) {
                throw new IllegalStateException("no current key: state is accessed outside a keyed context");
            }
            out.clear();
            out.writeInt(root);
            out.writeShort(keyGroup);
            out.writeInt(stateId);
            out.write(keyBytes);
            boolean ambiguous = keyVariableSized
                    && CompositeKeySerializationUtils.isSerializerTypeVariableSized(namespaceSerializer);
            if (ambiguous) {
                CompositeKeySerializationUtils.writeVariableIntBytes(keyBytes.length, out);
            }
            CompositeKeySerializationUtils.writeNameSpace(namespace, namespaceSerializer, out, ambiguous);
        }
    }

    /** Reads key and namespace back from a store key (for getKeys and iteration). */
    public static final class Reader<K, N> {
        private final TypeSerializer<K> keySerializer;
        private final TypeSerializer<N> namespaceSerializer;
        private final boolean ambiguous;
        private final DataInputDeserializer in = new DataInputDeserializer();

        public Reader(TypeSerializer<K> keySerializer, TypeSerializer<N> namespaceSerializer) {
            this.keySerializer = keySerializer;
            this.namespaceSerializer = namespaceSerializer;
            this.ambiguous = ambiguous(keySerializer, namespaceSerializer);
        }

        /** Positions at the key; then read {@link #key}, {@link #namespace}, and the user key from {@link #input}. */
        public Reader<K, N> of(byte[] storeKey) {
            in.setBuffer(storeKey, HEADER_BYTES, storeKey.length - HEADER_BYTES);
            return this;
        }

        public K key() throws IOException {
            return CompositeKeySerializationUtils.readKey(keySerializer, in, ambiguous);
        }

        public N namespace() throws IOException {
            return CompositeKeySerializationUtils.readNamespace(namespaceSerializer, in, ambiguous);
        }

        public DataInputDeserializer input() {
            return in;
        }
    }
}
