package org.pdpm.jobs.memnode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.jobs.cli.PdpmCommand;
import org.pdpm.jobs.testing.ChildProcess;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.RemoteRegion;
import org.pdpm.rdma.tcp.TcpFabric;

/** {@code pdpm memnode} as a real process: killed, restarted, refused, and fed garbage. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MemnodeProcessTest {

    private static final String SIZE = "4m";
    private static final long SIZE_BYTES = 4L << 20;

    @TempDir
    Path dir;

    /** {@code pdpm memnode} as a child process, its stderr beside the PM file. */
    private static ChildProcess memnode(Path pm, String size, Path secretFile) throws Exception {
        return ChildProcess.start("memnode " + pm.getFileName(), log(pm), PdpmCommand.class, args(pm, size, secretFile));
    }

    private static ChildProcess.Exit memnodeToExit(Path pm, String size, Path secretFile) throws Exception {
        return ChildProcess.runToExit(log(pm), PdpmCommand.class, args(pm, size, secretFile));
    }

    private static Path log(Path pm) {
        return pm.resolveSibling(pm.getFileName() + ".log");
    }

    private static List<String> args(Path pm, String size, Path secretFile) {
        List<String> a = new ArrayList<>(List.of("memnode", "--listen", "127.0.0.1:0", "--pm", pm.toString(),
                "--size", size));
        if (secretFile != null) {
            a.addAll(List.of("--secret-file", secretFile.toString()));
        }
        return a;
    }

    private Path secretFile(String secret) throws Exception {
        Path f = dir.resolve("secret-" + secret.hashCode());
        Files.writeString(f, secret + "\n");
        return f;
    }

    @Test
    void flushedWritesSurviveKillNineAndARestartOnTheSameFile() throws Exception {
        Path pm = dir.resolve("node.pm");
        Path secret = secretFile("kill-test");
        byte[][] values = new byte[64][];
        Random random = new Random(7);
        String nodeId;
        try (ChildProcess node = memnode(pm, SIZE, secret);
             TcpFabric fabric = new TcpFabric("kill-test")) {
            Connection c = fabric.connect(node.address());
            RemoteRegion r = c.node().firstRegion();
            nodeId = c.node().nodeId();
            for (int i = 0; i < values.length; i++) {
                values[i] = new byte[1000 + i];
                random.nextBytes(values[i]);
                Batch b = new Batch();
                b.write(r, i * 8192L, values[i]);
                b.compareAndSwap(r, i * 8192L + 4096, 0, i + 1);
                b.flush(r, i * 8192L, 8192);
                c.execute(b);
            }
            node.kill9();
            assertThat(node.isAlive()).isFalse();
            assertThatThrownBy(() -> c.read(r, 0, 8)).isInstanceOf(FabricException.class);
        }
        try (ChildProcess node = memnode(pm, SIZE, secret);
             TcpFabric fabric = new TcpFabric("kill-test")) {
            Connection c = fabric.connect(node.address());
            RemoteRegion r = c.node().firstRegion();
            assertThat(c.node().nodeId()).isEqualTo(nodeId);
            for (int i = 0; i < values.length; i++) {
                assertThat(c.read(r, i * 8192L, values[i].length)).isEqualTo(values[i]);
                assertThat(c.fetchAndAdd(r, i * 8192L + 4096, 0)).isEqualTo(i + 1);
            }
        }
    }

    @Test
    void sigtermStopsCleanlyWithExitZero() throws Exception {
        Path pm = dir.resolve("term.pm");
        try (ChildProcess node = memnode(pm, SIZE, null);
             TcpFabric fabric = new TcpFabric((String) null)) {
            Connection c = fabric.connect(node.address());
            c.write(c.node().firstRegion(), 0, "unflushed but closed cleanly".getBytes());
            assertThat(node.terminate()).isZero();
            assertThat(node.log()).contains("stopped; region flushed");
        }
        try (ChildProcess node = memnode(pm, SIZE, null);
             TcpFabric fabric = new TcpFabric((String) null)) {
            Connection c = fabric.connect(node.address());
            assertThat(new String(c.read(c.node().firstRegion(), 0, 28))).isEqualTo("unflushed but closed cleanly");
        }
    }

    @Test
    void aWrongSecretIsRefused() throws Exception {
        try (ChildProcess node = memnode(dir.resolve("s.pm"), SIZE, secretFile("right"));
             TcpFabric wrong = new TcpFabric("wrong");
             TcpFabric right = new TcpFabric("right")) {
            assertThatThrownBy(() -> wrong.connect(node.address()))
                    .isInstanceOf(FabricException.class)
                    .hasMessageContaining("wrong secret")
                    .satisfies(e -> assertThat(((FabricException) e).status())
                            .isEqualTo(FabricException.Status.CONNECTION_REFUSED));
            assertThat(right.connect(node.address()).node().firstRegion().sizeBytes()).isEqualTo(SIZE_BYTES);
            assertThat(node.log()).contains("wrong secret");
        }
    }

    @Test
    void aFileOfAnotherSizeOrFormatVersionIsRefusedWithAClearMessage() throws Exception {
        Path pm = dir.resolve("v.pm");
        try (ChildProcess node = memnode(pm, SIZE, null)) {
            assertThat(node.terminate()).isZero();
        }
        ChildProcess.Exit wrongSize = memnodeToExit(pm, "8m", null);
        assertThat(wrongSize.code()).isEqualTo(2);
        assertThat(wrongSize.stderr()).contains("holds a region of " + SIZE_BYTES + " bytes but --size asks for "
                + (8L << 20));

        setFormatVersion(pm, 2);
        ChildProcess.Exit wrongVersion = memnodeToExit(pm, SIZE, null);
        assertThat(wrongVersion.code()).isEqualTo(2);
        assertThat(wrongVersion.stderr()).contains("format version 2").contains("serves format version 1");
    }

    /** Bytes 8..11 of the PM header hold the format version; the CRC32 of bytes 0..47 sits at 48. */
    private static void setFormatVersion(Path pm, int version) throws Exception {
        try (FileChannel ch = FileChannel.open(pm, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer h = ByteBuffer.allocate(52).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            h.putInt(8, version);
            CRC32 crc = new CRC32();
            crc.update(h.array(), 0, 48);
            h.putInt(48, (int) crc.getValue());
            h.clear();
            ch.write(h, 0);
        }
    }

    /**
     * Budget: about 30 s. 10,000 seeded garbage or truncated frames, each on its own connection,
     * while a well-formed client keeps reading and writing: the daemon stays up and no byte of the
     * region that the garbage could reach changes.
     */
    @Test
    void tenThousandGarbageFramesNeitherCrashTheNodeNorTouchItsMemory() throws Exception {
        long seed = Long.getLong("pdpm.fuzz.seed", 20261125L);
        Path secret = secretFile("fuzz");
        try (ChildProcess node = memnode(dir.resolve("fuzz.pm"), SIZE, secret);
             TcpFabric fabric = new TcpFabric("fuzz")) {
            Connection good = fabric.connect(node.address());
            RemoteRegion r = good.node().firstRegion();
            byte[] pattern = new byte[(int) SIZE_BYTES];
            new Random(seed).nextBytes(pattern);
            for (int off = 0; off < pattern.length; off += 1 << 20) {
                good.write(r, off, java.util.Arrays.copyOfRange(pattern, off, off + (1 << 20)));
            }
            long firstWord = ByteBuffer.wrap(pattern, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            GarbageFrames garbage = new GarbageFrames(seed, node.address(), "fuzz", r);
            for (int i = 0; i < 10_000; i++) {
                garbage.sendOne();
                if (i % 500 == 0) {
                    // The good client is served throughout: swap the first word away and back.
                    assertThat(good.compareAndSwap(r, 0, firstWord, 0x1234)).isEqualTo(firstWord);
                    assertThat(good.compareAndSwap(r, 0, 0x1234, firstWord)).isEqualTo(0x1234);
                }
            }
            assertThat(node.isAlive()).as("memnode died; seed=%d; log:%n%s", seed, node.log()).isTrue();
            assertThat(garbage.framesSent()).isGreaterThanOrEqualTo(10_000);
            byte[] now = good.read(r, 0, (int) SIZE_BYTES);
            assertThat(now).as("region changed; seed=%d", seed).isEqualTo(pattern);
            assertThat(new TcpFabric("fuzz").connect(node.address()).node().nodeId()).isEqualTo(good.node().nodeId());
        }
    }
}
