package org.pdpm.jobs.sample;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;

/**
 * A Flink MiniCluster in this JVM plus what MiniCluster does not track: which TaskManagers are
 * still alive, so that a run can terminate one and start its replacement.
 */
public final class LocalFlinkCluster implements AutoCloseable {

    private final MiniCluster miniCluster;
    private final boolean owned;
    private final Deque<Integer> alive = new ArrayDeque<>();
    private int started;

    private LocalFlinkCluster(MiniCluster miniCluster, int taskManagers, boolean owned) {
        this.miniCluster = miniCluster;
        this.owned = owned;
        for (int i = 0; i < taskManagers; i++) {
            alive.addLast(i);
        }
        this.started = taskManagers;
    }

    /** Starts a MiniCluster of its own; {@link #close()} stops it. */
    public static LocalFlinkCluster start(int taskManagers, int slotsPerTaskManager) throws Exception {
        if (taskManagers < 1 || slotsPerTaskManager < 1) {
            throw new IllegalArgumentException("taskManagers=" + taskManagers + " and slotsPerTaskManager="
                    + slotsPerTaskManager + " must be positive");
        }
        Configuration conf = new Configuration();
        conf.set(RestOptions.BIND_PORT, "0");
        MiniCluster miniCluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(taskManagers)
                .setNumSlotsPerTaskManager(slotsPerTaskManager)
                .withRandomPorts()
                .build());
        try {
            miniCluster.start();
        } catch (Exception e) {
            miniCluster.close();
            throw e;
        }
        return new LocalFlinkCluster(miniCluster, taskManagers, true);
    }

    /** Wraps a MiniCluster someone else started with {@code taskManagers} TaskManagers and stops. */
    public static LocalFlinkCluster attach(MiniCluster miniCluster, int taskManagers) {
        return new LocalFlinkCluster(miniCluster, taskManagers, false);
    }

    public MiniCluster miniCluster() {
        return miniCluster;
    }

    /** Terminates the longest-running TaskManager; returns its index and when it is gone. */
    synchronized Termination terminateOldestTaskManager() {
        Integer index = alive.pollFirst();
        if (index == null) {
            throw new IllegalStateException("no TaskManager left to terminate");
        }
        return new Termination(index, miniCluster.terminateTaskManager(index));
    }

    synchronized int startTaskManager() throws Exception {
        miniCluster.startTaskManager();
        int index = started++;
        alive.addLast(index);
        return index;
    }

    record Termination(int index, CompletableFuture<Void> done) {}

    /** Stops the MiniCluster if this started it. */
    @Override
    public void close() throws IOException {
        if (!owned) {
            return;
        }
        try {
            miniCluster.closeAsync().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while stopping the MiniCluster");
        } catch (ExecutionException e) {
            throw new IOException("stopping the MiniCluster failed", e.getCause());
        }
    }
}
