package org.pdpm.baseline;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.KvStoreContractTest;

/** The KvStore contract on RocksDB with synced writes, reopened on the same directory for durability. */
class RocksDbKvStoreContractTest extends KvStoreContractTest {

    @TempDir
    Path dir;

    @Override
    protected KvStore openStore() throws Exception {
        return RocksDbKvStore.builder().path(Files.createDirectory(dir.resolve("db"))).open();
    }

    @Override
    protected KvStore closeAndReopen(KvStore current) {
        current.close();
        return RocksDbKvStore.builder().path(dir.resolve("db")).open();
    }
}
