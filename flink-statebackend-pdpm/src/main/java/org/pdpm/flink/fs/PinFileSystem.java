package org.pdpm.flink.fs;

import java.io.IOException;
import java.net.URI;
import java.util.function.Function;
import org.apache.flink.core.fs.BlockLocation;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.pdpm.flink.pool.StatePool;
import org.pdpm.flink.snapshot.PinPath;

/**
 * The {@code pdpm://} file system: a checkpoint's "files" are the epochs it pinned, so that Flink's
 * own checkpoint bookkeeping — which discards a subsumed checkpoint by deleting its files — releases
 * them. A path exists while its pin is held; deleting it unpins. It holds no bytes: reading or
 * writing one is an error that says so.
 */
public final class PinFileSystem extends FileSystem {

    private final URI uri;
    private final Function<String, StatePool> pools;

    PinFileSystem(URI uri, Function<String, StatePool> pools) {
        this.uri = uri;
        this.pools = pools;
    }

    private PinPath pin(Path path) throws IOException {
        try {
            return PinPath.parse(path.toUri());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private StatePool pool(PinPath pin) throws IOException {
        StatePool pool = pools.apply(pin.pool());
        if (pool == null) {
            throw new IOException("pdpm pool '" + pin.pool() + "' is not reachable from this process: an embedded pool"
                    + " lives only in the JVM that made it, and a remote one needs state.backend.pdpm.* options naming"
                    + " its metadata server");
        }
        return pool;
    }

    /** Releases the pin; false when it was not held (nothing to do). */
    @Override
    public boolean delete(Path path, boolean recursive) throws IOException {
        PinPath pin = pin(path);
        StatePool pool = pool(pin);
        boolean held = isPinned(pool, pin);
        try {
            pool.unpin(pin.lineage(), pin.epoch(), pin.owner());
        } catch (RuntimeException e) {
            throw new IOException("cannot release pin " + path + ": " + e.getMessage(), e);
        }
        return held;
    }

    @Override
    public boolean exists(Path path) throws IOException {
        PinPath pin = pin(path);
        return isPinned(pool(pin), pin);
    }

    private static boolean isPinned(StatePool pool, PinPath pin) {
        return pool.pins().stream().anyMatch(p -> p.lineage() == pin.lineage() && p.epoch() == pin.epoch()
                && p.owner().equals(pin.owner()));
    }

    @Override
    public FileStatus getFileStatus(Path path) throws IOException {
        if (!exists(path)) {
            throw new java.io.FileNotFoundException(path + " is not pinned (released, or never taken)");
        }
        return new PinStatus(path);
    }

    @Override
    public Path getWorkingDirectory() {
        return new Path(uri);
    }

    @Override
    public Path getHomeDirectory() {
        return new Path(uri);
    }

    @Override
    public URI getUri() {
        return uri;
    }

    @Override
    public BlockLocation[] getFileBlockLocations(FileStatus file, long start, long len) {
        return new BlockLocation[0];
    }

    @Override
    public FSDataInputStream open(Path path, int bufferSize) throws IOException {
        return open(path);
    }

    @Override
    public FSDataInputStream open(Path path) throws IOException {
        throw noBytes(path, "read");
    }

    @Override
    public FileStatus[] listStatus(Path path) throws IOException {
        throw noBytes(path, "list");
    }

    @Override
    public boolean mkdirs(Path path) throws IOException {
        throw noBytes(path, "make directories under");
    }

    @Override
    public FSDataOutputStream create(Path path, WriteMode overwriteMode) throws IOException {
        throw noBytes(path, "write");
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        throw noBytes(src, "rename");
    }

    @Override
    public boolean isDistributedFS() {
        return true;
    }

    private static IOException noBytes(Path path, String what) {
        return new IOException("cannot " + what + " " + path + ": pdpm:// paths name pinned epochs of a pool's state,"
                + " not files; only exists and delete (unpin) apply. Checkpoint storage must be a real file system.");
    }

    private record PinStatus(Path path) implements FileStatus {
        @Override
        public long getLen() {
            return 0;
        }

        @Override
        public long getBlockSize() {
            return 0;
        }

        @Override
        public short getReplication() {
            return 1;
        }

        @Override
        public long getModificationTime() {
            return 0;
        }

        @Override
        public long getAccessTime() {
            return 0;
        }

        @Override
        public boolean isDir() {
            return false;
        }

        @Override
        public Path getPath() {
            return path;
        }
    }
}
