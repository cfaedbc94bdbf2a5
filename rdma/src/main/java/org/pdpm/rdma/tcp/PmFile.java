package org.pdpm.rdma.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import java.util.zip.CRC32;
import jdk.nio.mapmode.ExtendedMapMode;
import org.pdpm.rdma.memory.ChunkedRegionMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens (or creates) a memory node's PM file, checks its header and maps its region. On a DAX file
 * system the region is mapped {@code READ_WRITE_SYNC} (JEP 352), so a flush is a cache-line
 * write-back to real persistent memory; elsewhere that mapping is refused and the node falls back
 * to an ordinary shared mapping whose flush is {@code msync} — it survives the process being
 * killed, and a power loss only for what was flushed.
 */
final class PmFile {

    private static final Logger LOG = LoggerFactory.getLogger(PmFile.class);

    private final Path path;
    private final String nodeId;
    private final ChunkedRegionMemory memory;
    private final boolean dax;

    private PmFile(Path path, String nodeId, ChunkedRegionMemory memory, boolean dax) {
        this.path = path;
        this.nodeId = nodeId;
        this.memory = memory;
        this.dax = dax;
    }

    static PmFile open(Path path, long regionBytes) throws IOException {
        if (regionBytes <= 0 || regionBytes % 8 != 0) {
            throw new PmFileException("region size " + regionBytes + " must be a positive multiple of 8 bytes");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            String nodeId = ch.size() == 0 ? stampHeader(ch, path, regionBytes) : checkHeader(ch, path, regionBytes);
            int shift = ChunkedRegionMemory.chunkShiftFor(regionBytes);
            long chunk = 1L << shift;
            int n = (int) ((regionBytes + chunk - 1) / chunk);
            MappedByteBuffer[] chunks = new MappedByteBuffer[n];
            boolean dax = true;
            for (int i = 0; i < n; i++) {
                long position = PmFileLayout.HEADER_BYTES + i * chunk;
                long length = Math.min(chunk, regionBytes - i * chunk);
                if (dax) {
                    try {
                        chunks[i] = ch.map(ExtendedMapMode.READ_WRITE_SYNC, position, length);
                    } catch (IOException | UnsupportedOperationException e) {
                        dax = false;
                        LOG.info("PM file {} is not on a DAX file system ({}); mapping it as a shared file mapping:"
                                + " flush = msync, durable across process kills, across power loss only once flushed",
                                path, e.getMessage());
                    }
                }
                if (!dax) {
                    chunks[i] = ch.map(FileChannel.MapMode.READ_WRITE, position, length);
                }
            }
            if (dax) {
                LOG.info("PM file {} mapped READ_WRITE_SYNC (DAX): flush is a cache-line write-back", path);
            }
            // The mapping outlives the channel; unmapping happens when the buffers are collected.
            return new PmFile(path, nodeId, new ChunkedRegionMemory(chunks, shift, regionBytes, PmFile::forceAll), dax);
        }
    }

    private static void forceAll(ByteBuffer[] chunks) {
        for (ByteBuffer b : chunks) {
            ((MappedByteBuffer) b).force();
        }
    }

    private static String stampHeader(FileChannel ch, Path path, long regionBytes) throws IOException {
        UUID id = UUID.randomUUID();
        ByteBuffer h = ByteBuffer.allocate(PmFileLayout.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(PmFileLayout.MAGIC_OFFSET, PmFileLayout.MAGIC);
        h.putInt(PmFileLayout.FORMAT_OFFSET, PmFileLayout.FORMAT_VERSION);
        h.putInt(PmFileLayout.HEADER_BYTES_OFFSET, PmFileLayout.HEADER_BYTES);
        h.putLong(PmFileLayout.REGION_BYTES_OFFSET, regionBytes);
        h.putLong(PmFileLayout.NODE_ID_OFFSET, id.getMostSignificantBits());
        h.putLong(PmFileLayout.NODE_ID_OFFSET + 8, id.getLeastSignificantBits());
        h.putLong(PmFileLayout.CREATED_OFFSET, System.currentTimeMillis());
        h.putInt(PmFileLayout.CRC_OFFSET, crc(h));
        // Size the file first, so a crash between the two steps leaves a file without magic
        // (refused with a clear reason) rather than a header promising bytes that are not there.
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(new byte[] {0}), PmFileLayout.HEADER_BYTES + regionBytes - 1);
        ch.force(true);
        ch.write(h, 0);
        ch.force(true);
        LOG.info("created PM file {}: node {} with a region of {} bytes", path, id, regionBytes);
        return id.toString();
    }

    private static String checkHeader(FileChannel ch, Path path, long regionBytes) throws IOException {
        if (ch.size() < PmFileLayout.HEADER_BYTES) {
            throw new PmFileException("PM file " + path + " has " + ch.size()
                    + " bytes, too few to be a pDPM PM file; use a new or empty file");
        }
        ByteBuffer h = ByteBuffer.allocate(PmFileLayout.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        while (h.hasRemaining() && ch.read(h, h.position()) > 0) {
            // read the whole header
        }
        if (h.getLong(PmFileLayout.MAGIC_OFFSET) != PmFileLayout.MAGIC) {
            throw new PmFileException("PM file " + path + " is not a pDPM PM file (no pDPM magic in its header);"
                    + " refusing to overwrite it");
        }
        if (h.getInt(PmFileLayout.CRC_OFFSET) != crc(h)) {
            throw new PmFileException("PM file " + path + " has a corrupt header (checksum mismatch)");
        }
        int format = h.getInt(PmFileLayout.FORMAT_OFFSET);
        if (format != PmFileLayout.FORMAT_VERSION) {
            throw new PmFileException("PM file " + path + " has format version " + format
                    + "; this memory node serves format version " + PmFileLayout.FORMAT_VERSION);
        }
        long stored = h.getLong(PmFileLayout.REGION_BYTES_OFFSET);
        if (stored != regionBytes) {
            throw new PmFileException("PM file " + path + " holds a region of " + stored + " bytes but --size asks for "
                    + regionBytes + "; restart with --size " + stored + " or use a new file");
        }
        if (ch.size() < PmFileLayout.HEADER_BYTES + stored) {
            throw new PmFileException("PM file " + path + " is " + ch.size() + " bytes, shorter than its header's "
                    + (PmFileLayout.HEADER_BYTES + stored) + " (truncated?)");
        }
        return new UUID(h.getLong(PmFileLayout.NODE_ID_OFFSET), h.getLong(PmFileLayout.NODE_ID_OFFSET + 8)).toString();
    }

    private static int crc(ByteBuffer header) {
        CRC32 crc = new CRC32();
        crc.update(header.array(), 0, PmFileLayout.CRC_OFFSET);
        return (int) crc.getValue();
    }

    Path path() {
        return path;
    }

    String nodeId() {
        return nodeId;
    }

    ChunkedRegionMemory memory() {
        return memory;
    }

    boolean isDax() {
        return dax;
    }
}
