package org.pdpm.core.api;

/** The contract on the reference store, which shows the contract itself asks only for correct behaviour. */
class ReferenceKvStoreContractTest extends KvStoreContractTest {

    @Override
    protected KvStore openStore() {
        return new ReferenceKvStore(new KvLimits(64, 4096));
    }

    @Override
    protected KvStore closeAndReopen(KvStore store) {
        return ((ReferenceKvStore) store).reopen();
    }
}
