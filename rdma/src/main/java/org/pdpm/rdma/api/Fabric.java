package org.pdpm.rdma.api;

/**
 * One way of reaching memory nodes: {@code local} (this JVM), {@code tcp} (the memory-node daemon),
 * {@code disni} (RDMA NICs) or the simulated fabric of the tests. The stores never know which.
 */
public interface Fabric extends AutoCloseable {

    /** {@code local}, {@code tcp}, {@code disni} or {@code sim}. */
    String name();

    /** Opens a connection to the node at {@code address}; fails with a {@link FabricException}. */
    Connection connect(NodeAddress address);

    /** Closes every connection this fabric opened. */
    @Override
    void close();
}
