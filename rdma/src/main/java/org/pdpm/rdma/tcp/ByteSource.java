package org.pdpm.rdma.tcp;

import java.io.IOException;
import java.io.InputStream;

/** Where a {@link FrameReader} gets its bytes: a socket's stream, or a client's non-blocking channel. */
interface ByteSource {

    /** Reads at least one byte, blocking until some arrive; -1 at the end of the stream. */
    int read(byte[] b, int off, int len) throws IOException;

    /** Reads what has arrived without blocking: 0 when nothing has, -1 at the end of the stream. */
    int readNow(byte[] b, int off, int len) throws IOException;

    /** A blocking socket's stream; its timeouts are the socket's. */
    static ByteSource of(InputStream in) {
        return new ByteSource() {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return in.read(b, off, len);
            }

            @Override
            public int readNow(byte[] b, int off, int len) throws IOException {
                int available = in.available();
                return available == 0 ? 0 : in.read(b, off, Math.min(len, available));
            }
        };
    }
}
