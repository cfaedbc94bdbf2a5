package org.pdpm.flink.fs;

import java.net.URI;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystemFactory;
import org.pdpm.flink.pool.PoolSpec;
import org.pdpm.flink.pool.StatePool;
import org.pdpm.flink.pool.StatePools;
import org.pdpm.flink.snapshot.PinPath;

/**
 * Makes {@code pdpm://} paths resolvable wherever Flink discards checkpoints — on the JobManager
 * too. Found through Java's service loader (this jar in Flink's {@code lib/}, or as a plugin); it
 * reaches a remote pool with the {@code state.backend.pdpm.*} options of Flink's configuration.
 */
public final class PinFileSystemFactory implements FileSystemFactory {

    private volatile Configuration config = new Configuration();

    @Override
    public String getScheme() {
        return PinPath.SCHEME;
    }

    @Override
    public void configure(Configuration config) {
        this.config = config;
    }

    @Override
    public FileSystem create(URI fsUri) {
        return new PinFileSystem(fsUri, this::pool);
    }

    private StatePool pool(String id) {
        StatePool open = StatePools.byId(id);
        if (open != null || StatePools.isEmbeddedId(id)) {
            return open;
        }
        PoolSpec spec = PoolSpec.from(config);
        if (spec.embedded() || !spec.remoteId().equals(id)) {
            return null;
        }
        return StatePools.get(spec);
    }
}
