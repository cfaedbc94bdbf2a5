package org.pdpm.jobs.bench;

import java.io.IOException;
import java.util.Locale;

/** The stores {@code pdpm bench kv} can stand up and measure, side by side. */
public enum SystemKind {
    /** Clover: an embedded metadata server, one client (with its own cache) per benchmark thread. */
    CLOVER {
        @Override
        public StoreDeployment deploy(StoreDeployment.Plan plan) throws IOException {
            return CloverDeployment.start(plan);
        }
    },
    /** pDPM-Central: an embedded coordinator every request goes through, one client per benchmark thread. */
    CENTRAL {
        @Override
        public StoreDeployment deploy(StoreDeployment.Plan plan) throws IOException {
            return CentralDeployment.start(plan);
        }
    },
    /** pDPM-Direct: no server; the first client formats the pool, one client (own locks and cache) per thread. */
    DIRECT {
        @Override
        public StoreDeployment deploy(StoreDeployment.Plan plan) throws IOException {
            return DirectDeployment.start(plan);
        }
    },
    /** The RocksDB baseline on a local temporary directory, synced WAL; shared by all threads. */
    ROCKSDB {
        @Override
        public StoreDeployment deploy(StoreDeployment.Plan plan) throws IOException {
            return RocksDbDeployment.start(plan);
        }
    };

    /** Starts this system as {@code plan} asks; the caller closes it. */
    public abstract StoreDeployment deploy(StoreDeployment.Plan plan) throws IOException;

    /** The name on the command line and in the output. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
