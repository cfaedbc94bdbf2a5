package org.pdpm.jobs.memnode;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

/**
 * A seeded fuzzer speaking the tcp fabric's frames from the outside (written from the wire layout's
 * documentation, not from the implementation): each episode opens a connection and sends one
 * garbage, truncated or oversized frame, before or after a proper handshake.
 */
final class GarbageFrames {

    private static final int MAGIC = 0x4d504450;
    private static final byte HELLO = 1;
    private static final byte BATCH = 4;
    private static final byte WRITE = 2;

    private final Random random;
    private final NodeAddress node;
    private final byte[] secret;
    private final RemoteRegion region;
    private long framesSent;

    GarbageFrames(long seed, NodeAddress node, String secret, RemoteRegion region) {
        this.random = new Random(seed);
        this.node = node;
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.region = region;
    }

    long framesSent() {
        return framesSent;
    }

    void sendOne() throws IOException {
        int kind = random.nextInt(100);
        try (Socket s = new Socket(node.host(), node.port())) {
            s.setSoTimeout(10_000);
            s.setSoLinger(true, 0);
            OutputStream out = s.getOutputStream();
            if (kind < 20) {
                out.write(randomBytes(1 + random.nextInt(64)));
            } else if (kind < 25) {
                out.write(hello(randomBytes(random.nextInt(16))));
            } else {
                out.write(hello(secret));
                readWelcome(s.getInputStream());
                if (kind < 60) {
                    out.write(randomFrame());
                } else if (kind < 85) {
                    byte[] write = validWriteFrame();
                    out.write(write, 0, 1 + random.nextInt(write.length - 1));
                } else {
                    out.write(lyingLengthFrame());
                }
            }
            out.flush();
            framesSent++;
        }
    }

    private byte[] hello(byte[] presented) {
        ByteBuffer b = le(4 + 1 + 4 + 2 + 2 + presented.length);
        b.putInt(1 + 4 + 2 + 2 + presented.length).put(HELLO).putInt(MAGIC).putShort((short) 1)
                .putShort((short) presented.length).put(presented);
        return b.array();
    }

    private static void readWelcome(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        byte[] len = d.readNBytes(4);
        int n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (len.length < 4 || d.readNBytes(n).length != n) {
            throw new IOException("no WELCOME from the node");
        }
    }

    /** A frame with a truthful length and a random body, often typed BATCH so the parser goes deep. */
    private byte[] randomFrame() {
        byte[] body = randomBytes(1 + random.nextInt(200));
        if (random.nextBoolean()) {
            body[0] = BATCH;
        }
        ByteBuffer b = le(4 + body.length);
        b.putInt(body.length).put(body);
        return b.array();
    }

    /** A well-formed one-request WRITE batch with the real rkey, to be cut short before its end. */
    private byte[] validWriteFrame() {
        byte[] data = randomBytes(8 + random.nextInt(256));
        long offset = 8L * random.nextInt((int) ((region.sizeBytes() - data.length) / 8));
        int body = 1 + 2 + 1 + 4 + 4 + 8 + 4 + data.length;
        ByteBuffer b = le(4 + body);
        b.putInt(body).put(BATCH).putShort((short) 1).put(WRITE).putInt(region.regionId()).putInt(region.rkey())
                .putLong(offset).putInt(data.length).put(data);
        return b.array();
    }

    /** A length prefix that is zero, negative or far beyond the frame bound, then some bytes. */
    private byte[] lyingLengthFrame() {
        int[] lies = {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 64 << 20};
        ByteBuffer b = le(4 + 16);
        b.putInt(lies[random.nextInt(lies.length)]).put(randomBytes(16));
        return b.array();
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
