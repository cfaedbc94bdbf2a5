package org.pdpm.jobs.memnode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.jobs.testing.ChildProcess;
import org.pdpm.jobs.testing.ProcessCluster;
import org.pdpm.rdma.api.NodeAddress;

/**
 * Two {@code pdpm memnode} processes (R = 2) and a {@code pdpm metaserver} process: the group's
 * primary — which also holds the server's log — is killed with {@code kill -9} under load from
 * three Clover clients. Writes go on with one replica and nothing acknowledged is lost. The node
 * is then restarted on its port with its stale PM file: it stays out of service, so when the last
 * node in service is killed too, reads fail instead of serving the stale copy. Budget: ~30 s.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MemnodeFailoverProcessTest {

    private static final String SECRET = "failover-test";
    private static final String NODE_SIZE = "64m";
    private static final int THREADS = 3;
    private static final int PUTS_BEFORE_KILL = 3_000;
    private static final int PUTS_AFTER_KILL = 3_000;

    @TempDir
    Path dir;

    private ProcessCluster cluster;

    @BeforeEach
    void startCluster() {
        cluster = new ProcessCluster(dir, SECRET, NODE_SIZE);
    }

    @AfterEach
    void cleanUp() throws Exception {
        cluster.close();
    }

    private ChildProcess metaserver(String tag, String listen, List<NodeAddress> nodes) throws Exception {
        return cluster.metaserver(tag, cluster.metaserverArgs(listen, nodes, 2));
    }

    @Test
    void killNineOfTheGroupsPrimaryLosesNothingAndTheReturningNodeServesNothing() throws Exception {
        ChildProcess first = cluster.memnode(0, "127.0.0.1:0", "");
        ChildProcess second = cluster.memnode(1, "127.0.0.1:0", "");
        List<NodeAddress> nodes = List.of(first.address(), second.address());
        ChildProcess ms = metaserver("first", "127.0.0.1:0", nodes);

        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        AtomicLong acks = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            CloverStore store = cluster.client(nodes, ms.address());
            int id = t;
            Thread w = new Thread(() -> {
                try {
                    for (long n = 0; !stop.get(); n++) {
                        String key = "w" + id + "/" + (n % 500);
                        String value = key + "@" + n;
                        store.put(b(key), b(value));
                        acknowledged.put(key, value);
                        acks.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "writer-" + t);
            w.start();
            writers.add(w);
        }
        awaitAcks(acks, PUTS_BEFORE_KILL, failure);
        first.kill9();
        long atKill = acks.get();
        awaitAcks(acks, atKill + PUTS_AFTER_KILL, failure);
        stop.set(true);
        for (Thread w : writers) {
            w.join(30_000);
        }
        assertThat(failure.get()).as("a writer failed").isNull();
        System.out.printf("memory node kill -9 under load: %d puts acknowledged before, %d after%n", atKill,
                acks.get() - atKill);

        MetadataService.Membership membership = cluster.remote(ms.address()).membership();
        assertThat(membership.outNodes()).containsExactly(0);
        assertThat(ms.log()).contains("taken out of service for good");
        checkEveryKey(cluster.client(nodes, ms.address()), acknowledged, "after the kill");

        // The node returns on its port with the PM file it had: it stays out, and a new client and
        // a restarted metadata server both run without it.
        ChildProcess returned = cluster.memnode(0, nodes.get(0).toString(), "-returned");
        assertThat(returned.address()).isEqualTo(nodes.get(0));
        ms.kill9();
        ChildProcess ms2 = metaserver("second", ms.address().toString(), nodes);
        assertThat(cluster.remote(ms2.address()).membership().outNodes()).containsExactly(0);
        CloverStore reader = cluster.client(nodes, ms2.address());
        checkEveryKey(reader, acknowledged, "after the node returned and the metaserver restarted");
        reader.put(b("w0/0"), b("written after the return"));
        acknowledged.put("w0/0", "written after the return");

        // The last node in service dies: the returned node's stale copy must not be served.
        second.kill9();
        assertThatThrownBy(() -> {
            for (String key : acknowledged.keySet()) {
                reader.get(b(key));
            }
        }).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("group 0");
        ms2.kill9();
        ChildProcess.Exit refused = cluster.runToExit("metaserver-third",
                cluster.metaserverArgs(ms.address().toString(), nodes, 2));
        assertThat(refused.code()).isNotZero();
        assertThat(refused.stderr()).contains(nodes.get(1).toString()).contains("never taken out of service");
    }

    private static void awaitAcks(AtomicLong acks, long target, AtomicReference<Throwable> failure)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acks.get() < target && failure.get() == null && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(failure.get()).as("a writer failed").isNull();
        assertThat(acks.get()).as("acknowledged puts").isGreaterThanOrEqualTo(target);
    }

    private static void checkEveryKey(CloverStore reader, Map<String, String> acknowledged, String when) {
        assertThat(acknowledged).isNotEmpty();
        acknowledged.forEach((k, v) -> assertThat(reader.get(b(k))).as("%s: %s", when, k).isEqualTo(b(v)));
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
