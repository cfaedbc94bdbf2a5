package org.pdpm.rdma.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PmFileTest {

    private static final long SIZE = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void createdFileKeepsItsIdentityAndDataAcrossReopen() throws IOException {
        Path f = dir.resolve("pm");
        PmFile first = PmFile.open(f, SIZE);
        byte[] data = {1, 2, 3, 4, 5, 6, 7, 8};
        first.memory().write(SIZE - 8, data, 0, 8);
        first.memory().flush(SIZE - 8, 8);
        String id = first.nodeId();
        first.memory().close();

        assertThat(Files.size(f)).isEqualTo(PmFileLayout.HEADER_BYTES + SIZE);
        PmFile again = PmFile.open(f, SIZE);
        byte[] back = new byte[8];
        again.memory().read(SIZE - 8, back, 0, 8);
        assertThat(back).isEqualTo(data);
        assertThat(again.nodeId()).isEqualTo(id);
        again.memory().close();
    }

    @Test
    void refusesAnotherSize() throws IOException {
        Path f = dir.resolve("pm");
        PmFile.open(f, SIZE).memory().close();
        assertThatThrownBy(() -> PmFile.open(f, 2 * SIZE)).isInstanceOf(PmFileException.class)
                .hasMessageContaining("holds a region of " + SIZE + " bytes")
                .hasMessageContaining("--size " + SIZE);
    }

    @Test
    void refusesAnotherFormatVersion() throws IOException {
        Path f = dir.resolve("pm");
        PmFile.open(f, SIZE).memory().close();
        patchHeader(f, h -> h.putInt(PmFileLayout.FORMAT_OFFSET, 99));
        assertThatThrownBy(() -> PmFile.open(f, SIZE)).isInstanceOf(PmFileException.class)
                .hasMessageContaining("format version 99")
                .hasMessageContaining("serves format version " + PmFileLayout.FORMAT_VERSION);
    }

    @Test
    void refusesAFileThatIsNotOurs() throws IOException {
        Path f = dir.resolve("notes.txt");
        Files.write(f, new byte[8192]);
        assertThatThrownBy(() -> PmFile.open(f, SIZE)).isInstanceOf(PmFileException.class)
                .hasMessageContaining("is not a pDPM PM file");
        assertThat(Files.readAllBytes(f)).containsOnly(0);
    }

    @Test
    void refusesACorruptHeader() throws IOException {
        Path f = dir.resolve("pm");
        PmFile.open(f, SIZE).memory().close();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0x7f}), PmFileLayout.CREATED_OFFSET);
        }
        assertThatThrownBy(() -> PmFile.open(f, SIZE)).isInstanceOf(PmFileException.class)
                .hasMessageContaining("corrupt header");
    }

    @Test
    void refusesATruncatedFile() throws IOException {
        Path f = dir.resolve("pm");
        PmFile.open(f, SIZE).memory().close();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(PmFileLayout.HEADER_BYTES + SIZE / 2);
        }
        assertThatThrownBy(() -> PmFile.open(f, SIZE)).isInstanceOf(PmFileException.class)
                .hasMessageContaining("truncated");
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[10]);
        assertThatThrownBy(() -> PmFile.open(tiny, SIZE)).isInstanceOf(PmFileException.class)
                .hasMessageContaining("too few");
    }

    @Test
    void refusesASizeThatIsNotWholeWords() {
        assertThatThrownBy(() -> PmFile.open(dir.resolve("pm"), 1001)).isInstanceOf(PmFileException.class)
                .hasMessageContaining("multiple of 8");
    }

    @Test
    void regionsAboveTheChunkSizeAreMappedInPieces() throws IOException {
        // 3 GiB sparse file: beyond one 2 GiB mapping; the words either side of each 1 GiB seam work.
        long size = 3L << 30;
        PmFile pm = PmFile.open(dir.resolve("big"), size);
        try {
            for (long seam = 1L << 30; seam < size; seam += 1L << 30) {
                byte[] across = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12, 13, 14, 15, 16};
                pm.memory().write(seam - 8, across, 0, 16);
                byte[] back = new byte[16];
                pm.memory().read(seam - 8, back, 0, 16);
                assertThat(back).isEqualTo(across);
                assertThat(pm.memory().fetchAndAdd(seam, 1)).isEqualTo(ByteBuffer.wrap(across, 8, 8)
                        .order(ByteOrder.LITTLE_ENDIAN).getLong());
            }
            assertThat(pm.memory().compareAndSwap(size - 8, 0, 77)).isZero();
        } finally {
            pm.memory().close();
        }
    }

    private static void patchHeader(Path f, java.util.function.Consumer<ByteBuffer> change) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer h = ByteBuffer.allocate(PmFileLayout.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            change.accept(h);
            CRC32 crc = new CRC32();
            crc.update(h.array(), 0, PmFileLayout.CRC_OFFSET);
            h.putInt(PmFileLayout.CRC_OFFSET, (int) crc.getValue());
            h.clear();
            ch.write(h, 0);
        }
    }
}
