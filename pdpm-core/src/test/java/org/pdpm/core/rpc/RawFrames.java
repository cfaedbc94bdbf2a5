package org.pdpm.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Frames written byte by byte from the layout, for tests that must send what no client would. */
final class RawFrames {

    private RawFrames() {}

    static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    static byte[] frame(byte[] body) {
        return le(4 + body.length).putInt(body.length).put(body).array();
    }

    static byte[] hello(String secret) {
        return hello(secret, MetadataRpcLayout.VERSION);
    }

    static byte[] hello(String secret, int version) {
        byte[] s = secret.getBytes(StandardCharsets.UTF_8);
        return frame(le(9 + s.length).put((byte) 1).putInt(0x534d4450).putShort((short) version)
                .putShort((short) s.length).put(s).array());
    }

    static void handshake(Socket s, String secret) throws Exception {
        s.getOutputStream().write(hello(secret));
        InputStream in = s.getInputStream();
        byte[] welcome = in.readNBytes(4 + 17);
        assertThat(welcome[4]).as("WELCOME").isEqualTo((byte) 2);
    }

    static byte[] readToEnd(InputStream in) throws Exception {
        try {
            return in.readAllBytes();
        } catch (SocketException reset) {
            return new byte[0];
        }
    }
}
