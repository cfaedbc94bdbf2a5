package org.pdpm.rdma.tcp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.pdpm.rdma.memory.NodeMemory;
import org.pdpm.rdma.memory.VerbExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The passive memory node ({@code pdpm memnode}): a PM file mapped as one region, served to any
 * number of clients over the tcp fabric's frames. It carries out one-sided verbs and nothing else —
 * no key-value logic lives here. Each client connection gets one thread, which reads every frame
 * the socket has, executes them in order and answers them with one write.
 */
public final class MemoryNodeDaemon implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MemoryNodeDaemon.class);

    /**
     * @param secret       the shared secret clients must present; null accepts every client
     * @param writeThrough flush every write as it lands, so FLUSH is not needed for durability
     */
    public record Config(InetSocketAddress listen, Path pmFile, long sizeBytes, String secret, boolean writeThrough) {
        public Config {
            Objects.requireNonNull(listen, "listen");
            Objects.requireNonNull(pmFile, "pmFile");
            if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length > WireLayout.MAX_SECRET_BYTES) {
                throw new IllegalArgumentException("secret is longer than " + WireLayout.MAX_SECRET_BYTES + " bytes");
            }
        }
    }

    private final Config config;
    private final PmFile pm;
    private final VerbExecutor executor;
    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<ServerSession> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicLong sessionIds = new AtomicLong();

    private MemoryNodeDaemon(Config config, PmFile pm, ServerSocket server) {
        this.config = config;
        this.pm = pm;
        NodeMemory node = new NodeMemory(pm.nodeId(), config.writeThrough());
        node.register(pm.memory());
        this.executor = new VerbExecutor(node);
        this.server = server;
        this.acceptor = new Thread(this::acceptLoop, "pdpm-memnode-accept");
    }

    /** Maps the PM file (refusing one that does not match) and starts serving. */
    public static MemoryNodeDaemon start(Config config) throws IOException {
        PmFile pm = PmFile.open(config.pmFile(), config.sizeBytes());
        ServerSocket server = new ServerSocket();
        try {
            server.setReuseAddress(true);
            server.bind(config.listen(), 128);
        } catch (IOException e) {
            server.close();
            pm.memory().close();
            throw new IOException("cannot listen on " + config.listen() + ": " + e.getMessage(), e);
        }
        MemoryNodeDaemon d = new MemoryNodeDaemon(config, pm, server);
        if (config.secret() == null) {
            LOG.warn("no secret configured: any client that reaches {} may read and write this node's memory",
                    d.boundAddress());
        }
        d.acceptor.start();
        LOG.info("memory node {} serving {} bytes of {} on {}{}", pm.nodeId(), config.sizeBytes(), pm.path(),
                d.boundAddress(), config.writeThrough() ? " (write-through)" : "");
        return d;
    }

    public InetSocketAddress boundAddress() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public String nodeId() {
        return pm.nodeId();
    }

    /** Clients currently connected. */
    public int sessionCount() {
        return sessions.size();
    }

    private void acceptLoop() {
        try {
            while (!closed.get()) {
                Socket s = server.accept();
                ServerSession session = new ServerSession(s, executor, config.secret(), sessions::remove);
                sessions.add(session);
                Thread t = new Thread(session, "pdpm-memnode-session-" + sessionIds.incrementAndGet());
                t.setDaemon(true);
                t.start();
            }
        } catch (SocketException e) {
            if (!closed.get()) {
                LOG.error("accepting connections failed", e);
            }
        } catch (IOException e) {
            LOG.error("accepting connections failed", e);
        }
    }

    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /** Stops accepting, closes every session, makes the whole region durable and unmaps it. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.warn("closing the listening socket failed", e);
        }
        for (ServerSession s : sessions) {
            s.close();
        }
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Sessions may still be executing their last batch; the region is forced after they stop.
        for (ServerSession s : sessions) {
            s.awaitStopped(5_000);
        }
        executor.node().close();
        LOG.info("memory node {} stopped; region flushed", pm.nodeId());
        terminated.countDown();
    }
}
