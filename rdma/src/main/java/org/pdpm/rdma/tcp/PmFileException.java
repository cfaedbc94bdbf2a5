package org.pdpm.rdma.tcp;

import java.io.IOException;

/** A PM file the memory node refuses to serve: wrong format, version, size or identity. */
public final class PmFileException extends IOException {

    public PmFileException(String message) {
        super(message);
    }
}
