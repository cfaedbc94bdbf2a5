package org.pdpm.rdma.disni;

import com.ibm.disni.RdmaActiveEndpointGroup;
import com.ibm.disni.RdmaServerEndpoint;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.LinkedList;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The passive memory node on an RDMA NIC: it registers one region for remote READ, WRITE and
 * atomics, accepts connections, sends each new client a {@link NodeHello} and does nothing else;
 * every verb after that is served by the NIC alone.
 *
 * <pre>{@code
 * ByteBuffer pm = FileChannel.open(path, READ, WRITE, CREATE)
 *         .map(FileChannel.MapMode.READ_WRITE, 0, size);           // or a DAX mapping; at most 2 GiB - 1
 * try (DisniMemoryNode node = DisniMemoryNode.start(new InetSocketAddress("10.0.0.5", 7100), "node-a", pm)) {
 *     ...                                                           // clients: new DisniFabric().connect(...)
 * }
 * }</pre>
 *
 * <p>The region is registered with explicit access flags that include IBV_ACCESS_REMOTE_ATOMIC:
 * DiSNI 2.1's {@code registerMemory} grants only local write, remote read and remote write, and a
 * NIC answers an atomic on such a region with a remote access error.
 *
 * <p>Like {@link DisniFabric}, this cannot run without libdisni, rdma-core and an RDMA device;
 * {@link #start} then fails with UNAVAILABLE naming what is missing (use {@code pdpm memnode},
 * the tcp daemon, instead).
 */
public final class DisniMemoryNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DisniMemoryNode.class);

    /** The region's rights: clients READ, WRITE and run atomics on it; the NIC writes it locally. */
    static final int REGION_ACCESS = IbvMr.IBV_ACCESS_LOCAL_WRITE | IbvMr.IBV_ACCESS_REMOTE_READ
            | IbvMr.IBV_ACCESS_REMOTE_WRITE | IbvMr.IBV_ACCESS_REMOTE_ATOMIC;

    /** Queue depths of the node's own queue pairs: each sends one hello and nothing else. */
    private static final int NODE_QUEUE_DEPTH = 4;
    private static final int NODE_COMPLETION_QUEUE_DEPTH = 1024;
    private static final int ACCEPT_BACKLOG = 128;
    private static final long HELLO_TIMEOUT_SECONDS = 10;
    private static final long HELLO_WR_ID = 1;

    private final RdmaActiveEndpointGroup<DisniEndpoint> group;
    private final RdmaServerEndpoint<DisniEndpoint> server;
    private final IbvMr regionMr;
    private final IbvMr helloMr;
    private final NodeHello hello;
    private final InetSocketAddress address;
    private final Set<DisniEndpoint> clients = ConcurrentHashMap.newKeySet();
    private final ExecutorService reaper = Executors.newSingleThreadExecutor(DisniFabric.daemon("pdpm-disni-node-reaper"));
    private final Thread acceptor;
    private volatile boolean closed;

    private DisniMemoryNode(RdmaActiveEndpointGroup<DisniEndpoint> group, RdmaServerEndpoint<DisniEndpoint> server,
                            IbvMr regionMr, IbvMr helloMr, NodeHello hello, InetSocketAddress address) {
        this.group = group;
        this.server = server;
        this.regionMr = regionMr;
        this.helloMr = helloMr;
        this.hello = hello;
        this.address = address;
        this.acceptor = new Thread(this::acceptLoop, "pdpm-disni-node-accept");
        acceptor.setDaemon(true);
    }

    /**
     * Binds to {@code listen} (an address of an RDMA-capable interface), registers {@code region}
     * and starts accepting clients.
     *
     * @param nodeId the node's persistent identity (1..64 UTF-8 bytes), reported to every client
     * @param region direct or memory-mapped memory; all of it becomes region 0
     */
    public static DisniMemoryNode start(InetSocketAddress listen, String nodeId, ByteBuffer region) {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(region, "region");
        if (!region.isDirect() || region.capacity() == 0) {
            throw new IllegalArgumentException("region must be a non-empty direct or mapped buffer, capacity="
                    + region.capacity() + " direct=" + region.isDirect());
        }
        if (listen.isUnresolved()) {
            throw new IllegalArgumentException("listen=" + listen + " is not a resolved address");
        }
        // Validates nodeId before anything native is touched.
        new NodeHello(nodeId, 0, region.capacity(), 0, 0);
        RdmaActiveEndpointGroup<DisniEndpoint> group = DisniNative.openGroup(
                () -> DisniFabric.startGroup(NODE_QUEUE_DEPTH, NODE_COMPLETION_QUEUE_DEPTH), "serve a memory node");
        IbvMr regionMr = null;
        try {
            RdmaServerEndpoint<DisniEndpoint> server = group.createServerEndpoint();
            server.bind(listen, ACCEPT_BACKLOG);
            regionMr = server.getPd().regMr(region, REGION_ACCESS).execute().free().getMr();
            if ((regionMr.getAddr() & 7) != 0) {
                // Atomics need 8-byte aligned remote addresses, and offsets are relative to this one.
                throw new IllegalArgumentException("region address=0x" + Long.toHexString(regionMr.getAddr())
                        + " is not 8-byte aligned");
            }
            NodeHello hello = new NodeHello(nodeId, 0, region.capacity(), regionMr.getRkey(), regionMr.getAddr());
            ByteBuffer helloBuffer = ByteBuffer.allocateDirect(NodeHello.BYTES);
            hello.encode(helloBuffer);
            // A SEND source needs no rights beyond the implicit local read.
            IbvMr helloMr = server.getPd().regMr(helloBuffer, 0).execute().free().getMr();
            // Port 0 in listen lets rdma_cm pick one; the bound address tells which.
            InetSocketAddress bound = server.getSrcAddr() instanceof InetSocketAddress a ? a : listen;
            DisniMemoryNode node = new DisniMemoryNode(group, server, regionMr, helloMr, hello, bound);
            node.acceptor.start();
            LOG.info("disni memory node {} serving {} bytes (rkey {}) on {}", nodeId, region.capacity(),
                    regionMr.getRkey(), node.address);
            return node;
        } catch (Exception e) {
            if (regionMr != null) {
                try {
                    regionMr.deregMr().execute().free();
                } catch (IOException ignored) {
                    // Closing the group below tears the device context down anyway.
                }
            }
            closeGroup(group);
            if (e instanceof IllegalArgumentException misuse) {
                throw misuse;
            }
            throw new FabricException(Status.CONNECTION_REFUSED, "cannot serve a disni memory node on " + listen + ": " + e, e);
        }
    }

    public InetSocketAddress address() {
        return address;
    }

    public NodeInfo info() {
        return hello.info();
    }

    private void acceptLoop() {
        while (!closed) {
            DisniEndpoint client;
            try {
                client = server.accept();
            } catch (IOException e) {
                // DiSNI wraps everything, the interrupt of close() included, into IOException.
                if (closed || e.getCause() instanceof InterruptedException || !server.isBound()) {
                    return;
                }
                LOG.warn("accept on {} failed: {}", address, e.toString());
                continue;
            }
            if (closed) {
                // Accepted while closing, perhaps after the group closed its endpoints.
                try {
                    client.close();
                } catch (IOException e) {
                    LOG.debug("closing a late client of {}: {}", address, e.toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            clients.add(client);
            try {
                sendHello(client);
            } catch (IOException | RuntimeException e) {
                LOG.warn("sending the hello to a client of {} failed: {}", address, e.toString());
                reap(client);
            }
        }
    }

    /** SENDs the hello and waits for its completion, so a client that vanished is noticed here. */
    private void sendHello(DisniEndpoint client) throws IOException {
        CompletableFuture<Integer> sent = new CompletableFuture<>();
        client.listener(new DisniEndpoint.Listener() {
            @Override
            public void queuePairReady(DisniEndpoint ep) {
                // Server-side queue pairs need nothing registered of their own.
            }

            @Override
            public void completed(long wrId, int status, int byteLength) {
                sent.complete(status);
            }

            @Override
            public void connectionEnded(String event) {
                sent.complete(-1);
                reap(client);
            }
        });
        IbvSge sge = new IbvSge();
        sge.setAddr(helloMr.getAddr());
        sge.setLength(NodeHello.BYTES);
        sge.setLkey(helloMr.getLkey());
        LinkedList<IbvSge> sgl = new LinkedList<>();
        sgl.add(sge);
        IbvSendWR send = new IbvSendWR();
        send.setWr_id(HELLO_WR_ID);
        send.setOpcode(IbvSendWR.IBV_WR_SEND);
        send.setSend_flags(IbvSendWR.IBV_SEND_SIGNALED);
        send.setSg_list(sgl);
        send.setNum_sge(1);
        LinkedList<IbvSendWR> sends = new LinkedList<>();
        sends.add(send);
        client.postSend(sends).execute().free();
        int status;
        try {
            status = sent.get(HELLO_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("no completion for the hello within " + HELLO_TIMEOUT_SECONDS + " s", e);
        }
        if (status != -1 && !CompletionStatus.isSuccess(status)) {
            throw new IOException("hello completed with " + CompletionStatus.describe(status));
        }
    }

    /** Closes a client's endpoint off the CM thread, which must not wait on its own events. */
    private void reap(DisniEndpoint client) {
        if (!clients.remove(client)) {
            return;
        }
        try {
            reaper.execute(() -> {
                try {
                    client.close();
                } catch (IOException e) {
                    LOG.debug("closing a client endpoint of {}: {}", address, e.toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        } catch (RejectedExecutionException e) {
            // The node is closing: closing the group closes every endpoint it still has.
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // DiSNI's accept() waits on a monitor that closing does not notify.
        acceptor.interrupt();
        reaper.shutdown();
        try {
            reaper.awaitTermination(HELLO_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Queue pairs first, so no client is left connected to a deregistered region.
        closeGroup(group);
        clients.clear();
        try {
            regionMr.deregMr().execute().free();
            helloMr.deregMr().execute().free();
        } catch (IOException e) {
            LOG.warn("deregistering the region of {}: {}", address, e.toString());
        }
    }

    private static void closeGroup(RdmaActiveEndpointGroup<DisniEndpoint> group) {
        try {
            group.close();
        } catch (IOException e) {
            LOG.debug("closing the DiSNI group: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
