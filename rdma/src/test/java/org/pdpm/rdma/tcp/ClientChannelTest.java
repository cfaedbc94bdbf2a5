package org.pdpm.rdma.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ClientChannelTest {

    private ServerSocket listener;
    private ClientChannel client;
    private Socket peer;

    @BeforeEach
    void connect() throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        client = ClientChannel.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()),
                64 << 10, 5_000);
        peer = listener.accept();
    }

    @AfterEach
    void close() throws IOException {
        client.close();
        peer.close();
        listener.close();
    }

    @Test
    void readNowReturnsNothingUntilBytesArriveThenWhatArrived() throws Exception {
        byte[] buf = new byte[16];
        assertThat(client.readNow(buf, 0, buf.length)).isZero();
        peer.getOutputStream().write(new byte[] {1, 2, 3});
        int n = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (n < 3 && System.nanoTime() < deadline) {
            n += client.readNow(buf, n, buf.length - n);
        }
        assertThat(Arrays.copyOf(buf, n)).containsExactly(1, 2, 3);
    }

    @Test
    void aBlockedReadEndsWithAnIOExceptionWhenTheChannelCloses() throws Exception {
        CompletableFuture<Integer> blocked = CompletableFuture.supplyAsync(() -> {
            try {
                return client.read(new byte[8], 0, 8);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        assertThat(blocked).isNotDone();
        client.close();
        assertThatThrownBy(() -> blocked.get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasMessageContaining("IOException: socket closed");
        // The socket itself closed too: the peer reads the end of the stream.
        peer.setSoTimeout(5_000);
        assertThat(peer.getInputStream().read()).isEqualTo(-1);
    }

    @Test
    void aReadWithATimeoutFailsWhenNothingArrivesAndTheEndOfTheStreamIsMinusOne() throws Exception {
        client.readTimeoutMillis(50);
        assertThatThrownBy(() -> client.read(new byte[8], 0, 8)).isInstanceOf(SocketTimeoutException.class);
        client.readTimeoutMillis(0);
        peer.close();
        assertThat(client.read(new byte[8], 0, 8)).isEqualTo(-1);
    }

    @Test
    void aWriteLargerThanTheSocketBuffersWaitsForThePeerAndDeliversEveryByte() throws Exception {
        byte[] data = new byte[16 << 20];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
            try {
                client.write(data, 0, data.length);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(200);
        assertThat(written).as("16 MiB cannot fit the socket buffers while the peer reads nothing").isNotDone();
        byte[] received = new byte[data.length];
        new DataInputStream(peer.getInputStream()).readFully(received);
        written.get(10, TimeUnit.SECONDS);
        assertThat(received).isEqualTo(data);
    }
}
