package org.pdpm.jobs.cli;

import org.pdpm.rdma.api.NodeAddress;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code HOST:PORT}, reported as a usage error when malformed. */
final class NodeAddressConverter implements ITypeConverter<NodeAddress> {

    @Override
    public NodeAddress convert(String value) {
        try {
            return NodeAddress.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
