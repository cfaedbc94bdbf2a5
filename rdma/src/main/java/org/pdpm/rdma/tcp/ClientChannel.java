package org.pdpm.rdma.tcp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * A client's socket to a memory node, in non-blocking mode. Several threads poll it for answers
 * while others write: a blocking {@link java.net.Socket}'s {@code available()} holds the lock that
 * every write takes for as long as its system call runs, so pollers and writers queued behind each
 * other (measured: most synchronous requests from two threads met a contended lock). A
 * non-blocking read is one system call under the read lock only. Blocking reads and full send
 * buffers wait in a selector of their own, so a reader and a writer never wait on each other.
 */
final class ClientChannel implements ByteSource, AutoCloseable {

    private final SocketChannel channel;
    private final Selector readable;
    private final Selector writable;
    private volatile long readTimeoutMillis;

    private ClientChannel(SocketChannel channel) throws IOException {
        this.channel = channel;
        try {
            this.readable = Selector.open();
            try {
                this.writable = Selector.open();
            } catch (IOException e) {
                readable.close();
                throw e;
            }
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    /** Connects, then switches to non-blocking mode; {@code receiveBufferBytes} is asked for first. */
    static ClientChannel connect(InetSocketAddress address, int receiveBufferBytes, int connectMillis) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBufferBytes);
            channel.socket().connect(address, connectMillis);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.configureBlocking(false);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        ClientChannel c = new ClientChannel(channel);
        try {
            channel.register(c.readable, SelectionKey.OP_READ);
            channel.register(c.writable, SelectionKey.OP_WRITE);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** How long {@link #read} blocks before a {@link SocketTimeoutException}; 0 waits for ever. */
    void readTimeoutMillis(long millis) {
        this.readTimeoutMillis = millis;
    }

    @Override
    public int readNow(byte[] b, int off, int len) throws IOException {
        return channel.read(ByteBuffer.wrap(b, off, len));
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        long timeout = readTimeoutMillis;
        long deadline = System.nanoTime() + timeout * 1_000_000;
        while (true) {
            int n = readNow(b, off, len);
            if (n != 0) {
                return n;
            }
            long waitMillis = 0;
            if (timeout > 0) {
                waitMillis = (deadline - System.nanoTime()) / 1_000_000;
                if (waitMillis <= 0) {
                    throw new SocketTimeoutException("no answer within " + timeout + " ms");
                }
            }
            await(readable, waitMillis);
        }
    }

    /** Writes everything, waiting while the socket's send buffer is full. */
    void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
        while (buffer.hasRemaining()) {
            if (channel.write(buffer) == 0) {
                await(writable, 0);
            }
        }
    }

    private void await(Selector selector, long millis) throws IOException {
        try {
            selector.select(millis);
            selector.selectedKeys().clear();
        } catch (ClosedSelectorException e) {
            throw new IOException("socket closed", e);
        }
        if (!channel.isOpen()) {
            throw new IOException("socket closed");
        }
    }

    /** Closes the socket; a thread waiting in {@link #read} or {@link #write} gets an IOException. */
    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            // Closing the selectors wakes their waiters and deregisters the channel, which lets
            // the socket itself close.
            readable.close();
            writable.close();
        }
    }
}
