package org.pdpm.core.rpc;

import java.util.List;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.pool.PoolLayout;

/** Passes every call to {@code delegate}; tests override the calls they fake. */
class ForwardingMetadataService implements MetadataService {

    final MetadataService delegate;

    ForwardingMetadataService(MetadataService delegate) {
        this.delegate = delegate;
    }

    @Override
    public PoolLayout pool() {
        return delegate.pool();
    }

    @Override
    public long registerClient() {
        return delegate.registerClient();
    }

    @Override
    public KeyLocation lookup(byte[] key) {
        return delegate.lookup(key);
    }

    @Override
    public KeyLocation create(byte[] key, long head) {
        return delegate.create(key, head);
    }

    @Override
    public List<KeyLocation> createAll(List<byte[]> keys, long[] heads) {
        return delegate.createAll(keys, heads);
    }

    @Override
    public BlockGrant grantBlock(long clientId) {
        return delegate.grantBlock(clientId);
    }

    @Override
    public void sealBlock(long clientId, BlockGrant block, int usedBytes) {
        delegate.sealBlock(clientId, block, usedBytes);
    }

    @Override
    public List<KeyLocation> scan(byte[] prefix, byte[] after, int limit) {
        return delegate.scan(prefix, after, limit);
    }

    @Override
    public void retire(byte[] key, long superseded, long tail, long tailSeq) {
        delegate.retire(key, superseded, tail, tailSeq);
    }

    @Override
    public int createLineage() {
        return delegate.createLineage();
    }

    @Override
    public int fork(int lineage, long epoch) {
        return delegate.fork(lineage, epoch);
    }

    @Override
    public LineageInfo lineage(int lineage) {
        return delegate.lineage(lineage);
    }

    @Override
    public void dropLineage(int lineage) {
        delegate.dropLineage(lineage);
    }

    @Override
    public void pin(int lineage, long epoch, String owner) {
        delegate.pin(lineage, epoch, owner);
    }

    @Override
    public void unpin(int lineage, long epoch, String owner) {
        delegate.unpin(lineage, epoch, owner);
    }

    @Override
    public List<Pin> pins() {
        return delegate.pins();
    }

    @Override
    public Membership membership() {
        return delegate.membership();
    }

    @Override
    public Membership reportUnreachable(int node) {
        return delegate.reportUnreachable(node);
    }
}
