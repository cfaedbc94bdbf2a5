package org.pdpm.rdma.tcp;

import java.nio.charset.StandardCharsets;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricLimits;
import org.pdpm.rdma.api.RemoteRegion;
import org.pdpm.rdma.api.Verb;
import org.pdpm.rdma.memory.RegionMemory;
import org.pdpm.rdma.memory.VerbExecutor;

/** BATCH and COMPLETION frames of {@link WireLayout}, both directions. */
final class BatchCodec {

    private static final FabricException.Status[] STATUSES = FabricException.Status.values();

    private BatchCodec() {}

    static void encodeBatch(Batch batch, FrameBuffer out) {
        int frame = out.beginFrame();
        out.putByte(WireLayout.BATCH);
        out.putShort(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Verb verb = batch.verb(i);
            out.putByte(verb.code());
            out.putInt(batch.regionId(i));
            out.putInt(batch.rkey(i));
            out.putLong(batch.offset(i));
            out.putInt(batch.length(i));
            switch (verb) {
                case WRITE -> out.putBytes(batch.source(i), batch.sourceOffset(i), batch.length(i));
                case COMPARE_AND_SWAP -> {
                    out.putLong(batch.operand(i));
                    out.putLong(batch.swap(i));
                }
                case FETCH_AND_ADD -> out.putLong(batch.operand(i));
                case READ, FLUSH -> { }
            }
        }
        out.endFrame(frame);
    }

    /**
     * Parses a BATCH body (after its type byte) into {@code into}. WRITE sources point into
     * {@code body} itself, so the batch must be executed before the buffer is reused.
     */
    static void decodeBatch(byte[] body, int offset, int length, Batch into) throws MalformedFrameException {
        int end = offset + length;
        int at = offset;
        if (end - at < 2) {
            throw new MalformedFrameException("BATCH frame too short for its request count");
        }
        int count = FrameBuffer.getUnsignedShort(body, at);
        at += 2;
        if (count > FabricLimits.MAX_BATCH_VERBS) {
            throw new MalformedFrameException("BATCH of " + count + " requests exceeds " + FabricLimits.MAX_BATCH_VERBS);
        }
        into.clear();
        try {
            for (int i = 0; i < count; i++) {
                if (end - at < WireLayout.REQUEST_HEADER_BYTES) {
                    throw new MalformedFrameException("BATCH request " + i + " is truncated");
                }
                Verb verb = Verb.ofCode(body[at]);
                if (verb == null) {
                    throw new MalformedFrameException("BATCH request " + i + " has unknown verb code " + body[at]);
                }
                RemoteRegion region = new RemoteRegion(FrameBuffer.getInt(body, at + 1), Long.MAX_VALUE,
                        FrameBuffer.getInt(body, at + 5));
                long regionOffset = FrameBuffer.getLong(body, at + 9);
                int len = FrameBuffer.getInt(body, at + 17);
                at += WireLayout.REQUEST_HEADER_BYTES;
                switch (verb) {
                    case READ -> into.read(region, regionOffset, len);
                    case WRITE -> {
                        if (len < 0 || end - at < len) {
                            throw new MalformedFrameException("BATCH request " + i + " WRITE data is truncated");
                        }
                        into.write(region, regionOffset, body, at, len);
                        at += len;
                    }
                    case COMPARE_AND_SWAP -> {
                        need(end - at, 16, i);
                        into.compareAndSwap(region, regionOffset, FrameBuffer.getLong(body, at), FrameBuffer.getLong(body, at + 8));
                        at += 16;
                        checkAtomicLength(len, i);
                    }
                    case FETCH_AND_ADD -> {
                        need(end - at, 8, i);
                        into.fetchAndAdd(region, regionOffset, FrameBuffer.getLong(body, at));
                        at += 8;
                        checkAtomicLength(len, i);
                    }
                    case FLUSH -> {
                        if (len < 0) {
                            throw new MalformedFrameException("BATCH request " + i + " FLUSH has a negative length");
                        }
                        into.flush(region, regionOffset, len);
                    }
                }
            }
        } catch (FabricException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new MalformedFrameException("BATCH request breaks a bound: " + e.getMessage());
        }
        if (at != end) {
            throw new MalformedFrameException("BATCH frame has " + (end - at) + " bytes after its last request");
        }
    }

    private static void need(int remaining, int bytes, int i) throws MalformedFrameException {
        if (remaining < bytes) {
            throw new MalformedFrameException("BATCH request " + i + " operands are truncated");
        }
    }

    private static void checkAtomicLength(int len, int i) throws MalformedFrameException {
        if (len != FabricLimits.ATOMIC_BYTES) {
            throw new MalformedFrameException("BATCH request " + i + " atomic has length " + len + ", not 8");
        }
    }

    /** The most bytes the node can answer {@code batch} with: its DONE frame, or a FAILED one. */
    static long maxCompletionBytes(Batch batch) {
        long done = WireLayout.LENGTH_PREFIX_BYTES + WireLayout.RESULT_HEADER_BYTES;
        for (int i = 0; i < batch.size(); i++) {
            Verb verb = batch.verb(i);
            if (verb == Verb.READ) {
                done += batch.length(i);
            } else if (verb.isAtomic()) {
                done += 8;
            }
        }
        long failed = WireLayout.LENGTH_PREFIX_BYTES + WireLayout.RESULT_HEADER_BYTES + 2 + WireLayout.MAX_REASON_BYTES;
        return Math.max(done, failed);
    }

    /**
     * Executes {@code batch} and appends its DONE frame, READ data copied from the region straight
     * into the frame. When the batch fails, nothing is appended and the failure is thrown.
     */
    static void executeIntoDone(Batch batch, VerbExecutor executor, FrameBuffer out) {
        int frame = out.beginFrame();
        out.putByte(WireLayout.COMPLETION);
        out.putByte(WireLayout.STATUS_OK);
        try {
            executor.execute(batch, new VerbExecutor.Answers() {
                @Override
                public void read(int i, RegionMemory memory, long offset, int length) {
                    out.putRead(memory, offset, length);
                }

                @Override
                public void oldValue(int i, long oldValue) {
                    out.putLong(oldValue);
                }
            });
        } catch (RuntimeException e) {
            out.truncate(frame);
            throw e;
        }
        out.endFrame(frame);
    }

    static void encodeFailed(FabricException failure, FrameBuffer out) {
        int frame = out.beginFrame();
        out.putByte(WireLayout.COMPLETION);
        out.putByte(failure.status().ordinal() + 1);
        out.putText(failure.getMessage(), WireLayout.MAX_REASON_BYTES);
        out.endFrame(frame);
    }

    /**
     * Parses a COMPLETION body for {@code batch}: its result, or the node's failure as an exception
     * to complete the batch with. Throws {@link MalformedFrameException} when the body does not fit.
     */
    static Object decodeCompletion(byte[] body, int offset, int length, Batch batch) throws MalformedFrameException {
        int end = offset + length;
        if (length < 2 || body[offset] != WireLayout.COMPLETION) {
            throw new MalformedFrameException("expected a COMPLETION frame");
        }
        int status = body[offset + 1] & 0xff;
        int at = offset + 2;
        if (status != WireLayout.STATUS_OK) {
            if (status > STATUSES.length || end - at < 2) {
                throw new MalformedFrameException("COMPLETION has unknown status " + status);
            }
            int n = FrameBuffer.getUnsignedShort(body, at);
            if (end - at - 2 < n) {
                throw new MalformedFrameException("COMPLETION reason is truncated");
            }
            String reason = new String(body, at + 2, n, StandardCharsets.UTF_8);
            FabricException.Status s = STATUSES[status - 1];
            String prefix = s + ": ";
            return new FabricException(s, reason.startsWith(prefix) ? reason.substring(prefix.length()) : reason);
        }
        int n = batch.size();
        byte[][] data = null;
        long[] values = null;
        for (int i = 0; i < n; i++) {
            Verb verb = batch.verb(i);
            if (verb == Verb.READ) {
                int len = batch.length(i);
                if (end - at < len) {
                    throw new MalformedFrameException("COMPLETION is missing READ data");
                }
                if (data == null) {
                    data = new byte[n][];
                }
                byte[] copy = new byte[len];
                System.arraycopy(body, at, copy, 0, len);
                data[i] = copy;
                at += len;
            } else if (verb.isAtomic()) {
                if (end - at < 8) {
                    throw new MalformedFrameException("COMPLETION is missing an atomic's value");
                }
                if (values == null) {
                    values = new long[n];
                }
                values[i] = FrameBuffer.getLong(body, at);
                at += 8;
            }
        }
        if (at != end) {
            throw new MalformedFrameException("COMPLETION has " + (end - at) + " unexpected bytes");
        }
        return new BatchResult(batch, data, values);
    }
}
