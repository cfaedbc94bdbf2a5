package org.pdpm.core.clover;

import java.util.List;
import org.pdpm.rdma.api.FabricException;

/** Some replicas of a write did not answer; the caller takes them out of service and writes again. */
final class UnreachableReplicasException extends RuntimeException {

    private final List<Integer> nodes;

    UnreachableReplicasException(List<Integer> nodes, FabricException cause) {
        super("memory nodes " + nodes + " did not answer: " + cause.getMessage(), cause);
        this.nodes = List.copyOf(nodes);
    }

    List<Integer> nodes() {
        return nodes;
    }
}
