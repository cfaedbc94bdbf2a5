package org.pdpm.core.rpc;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.pdpm.core.clover.MetadataService;

/**
 * The embedded server for keys and space, but lineage, pin and membership calls are only recorded,
 * as their name and arguments, and answered with what the test set ({@link #lineage} and
 * {@link #membership} are forwarded while null); {@link #failure} is thrown instead when set. {@link #location} replaces every location the server would return.
 */
final class RecordingMetadataService extends ForwardingMetadataService {

    final List<List<Object>> calls = new CopyOnWriteArrayList<>();
    volatile int nextLineage;
    volatile LineageInfo lineage;
    volatile List<Pin> pins = List.of();
    volatile Membership membership;
    volatile RuntimeException failure;
    volatile KeyLocation location;

    RecordingMetadataService(MetadataService delegate) {
        super(delegate);
    }

    private void record(Object... call) {
        calls.add(List.of(call));
        RuntimeException f = failure;
        if (f != null) {
            throw f;
        }
    }

    @Override
    public KeyLocation lookup(byte[] key) {
        KeyLocation l = location;
        return l != null ? l : super.lookup(key);
    }

    @Override
    public KeyLocation create(byte[] key, long head) {
        KeyLocation l = location;
        return l != null ? l : super.create(key, head);
    }

    @Override
    public List<KeyLocation> createAll(List<byte[]> keys, long[] heads) {
        KeyLocation l = location;
        return l != null ? java.util.Collections.nCopies(keys.size(), l) : super.createAll(keys, heads);
    }

    @Override
    public List<KeyLocation> scan(byte[] prefix, byte[] after, int limit) {
        KeyLocation l = location;
        return l != null ? List.of(l, l) : super.scan(prefix, after, limit);
    }

    @Override
    public int createLineage() {
        record("createLineage");
        return nextLineage;
    }

    @Override
    public int fork(int lineage, long epoch) {
        record("fork", lineage, epoch);
        return nextLineage;
    }

    @Override
    public LineageInfo lineage(int lineage) {
        record("lineage", lineage);
        LineageInfo canned = this.lineage;
        return canned != null ? canned : super.lineage(lineage);
    }

    @Override
    public void dropLineage(int lineage) {
        record("dropLineage", lineage);
    }

    @Override
    public void pin(int lineage, long epoch, String owner) {
        record("pin", lineage, epoch, owner);
    }

    @Override
    public void unpin(int lineage, long epoch, String owner) {
        record("unpin", lineage, epoch, owner);
    }

    @Override
    public List<Pin> pins() {
        record("pins");
        return pins;
    }

    @Override
    public Membership membership() {
        record("membership");
        Membership canned = membership;
        return canned != null ? canned : super.membership();
    }

    @Override
    public Membership reportUnreachable(int node) {
        record("reportUnreachable", node);
        Membership canned = membership;
        return canned != null ? canned : super.reportUnreachable(node);
    }
}
