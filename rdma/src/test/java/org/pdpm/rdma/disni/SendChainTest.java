package org.pdpm.rdma.disni;

import static org.assertj.core.api.Assertions.assertThat;

import com.ibm.disni.verbs.IbvSendWR;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.FabricLimits;
import org.pdpm.rdma.api.RemoteRegion;

/** How a batch becomes one chain of work requests (one doorbell), without a NIC. */
class SendChainTest {

    private static final RemoteRegion REGION = new RemoteRegion(0, 1 << 20, 77);
    private static final long REGION_ADDRESS = 0x10_0000_0000L;
    private static final long STAGING_ADDRESS = 0x20_0000_0000L;
    private static final int LKEY = 5;

    private final ByteBuffer staging = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());

    @Test
    void eachVerbBecomesItsOpcodeAndOnlyTheLastIsSignaled() {
        Batch b = new Batch();
        int w = b.write(REGION, 100, new byte[] {1, 2, 3});
        int cas = b.compareAndSwap(REGION, 8, 11, 22);
        int faa = b.fetchAndAdd(REGION, 16, 5);
        int r = b.read(REGION, 200, 10);
        int f = b.flush(REGION, 100, 3);
        SendChain chain = SendChain.build(b, 3, REGION_ADDRESS, REGION.rkey(), staging, 64, STAGING_ADDRESS, LKEY, false);
        List<IbvSendWR> wrs = chain.requests();
        assertThat(wrs).extracting(IbvSendWR::getOpcode).containsExactly(IbvSendWR.IBV_WR_RDMA_WRITE,
                IbvSendWR.IBV_WR_ATOMIC_CMP_AND_SWP, IbvSendWR.IBV_WR_ATOMIC_FETCH_AND_ADD, IbvSendWR.IBV_WR_RDMA_READ,
                IbvSendWR.IBV_WR_RDMA_READ);
        assertThat(wrs).extracting(IbvSendWR::getWr_id).containsExactly(SendChain.wrId(3, w), SendChain.wrId(3, cas),
                SendChain.wrId(3, faa), SendChain.wrId(3, r), SendChain.wrId(3, f));
        assertThat(SendChain.sequenceOf(wrs.get(4).getWr_id())).isEqualTo(3);
        for (int i = 0; i < 4; i++) {
            assertThat(wrs.get(i).getSend_flags() & IbvSendWR.IBV_SEND_SIGNALED).isZero();
        }
        assertThat(wrs.get(4).getSend_flags() & IbvSendWR.IBV_SEND_SIGNALED).isNotZero();
        assertThat(wrs).extracting(wr -> wr.getRdma().getRemote_addr()).containsExactly(REGION_ADDRESS + 100,
                REGION_ADDRESS + 8, REGION_ADDRESS + 16, REGION_ADDRESS + 200, REGION_ADDRESS + 102);
        assertThat(wrs).allSatisfy(wr -> {
            assertThat(wr.getRdma().getRkey()).isEqualTo(REGION.rkey());
            assertThat(wr.getNum_sge()).isEqualTo(1);
            assertThat(wr.getSge(0).getLkey()).isEqualTo(LKEY);
        });
        assertThat(chain.endsWithReadOrAtomic()).isTrue();
    }

    @Test
    void atomicOperandsAreCarriedForTheRepair() {
        Batch b = new Batch();
        b.compareAndSwap(REGION, 8, -1L, Long.MIN_VALUE);
        b.fetchAndAdd(REGION, 16, 42);
        List<IbvSendWR> wrs = SendChain.build(b, 1, REGION_ADDRESS, REGION.rkey(), staging, 0, STAGING_ADDRESS, LKEY,
                false).requests();
        IbvSendWR.Atomic cas = wrs.get(0).getAtomic();
        assertThat(cas.getRemote_addr()).isEqualTo(REGION_ADDRESS + 8);
        assertThat(cas.getCompare_add()).isEqualTo(-1L);
        assertThat(cas.getSwap()).isEqualTo(Long.MIN_VALUE);
        assertThat(cas.getRkey()).isEqualTo(REGION.rkey());
        IbvSendWR.Atomic faa = wrs.get(1).getAtomic();
        assertThat(faa.getCompare_add()).isEqualTo(42);
        assertThat(faa.getSwap()).isZero();
        assertThat(wrs).allSatisfy(wr -> assertThat(wr.getSge(0).getLength()).isEqualTo(FabricLimits.ATOMIC_BYTES));
    }

    @Test
    void requestsAfterAReadOrAnAtomicAreFencedEvenAcrossBatches() {
        Batch b = new Batch();
        b.write(REGION, 0, new byte[8]);
        b.write(REGION, 8, new byte[8]);
        b.read(REGION, 0, 8);
        b.write(REGION, 0, new byte[8]);
        b.fetchAndAdd(REGION, 0, 1);
        b.write(REGION, 0, new byte[8]);
        SendChain first = SendChain.build(b, 1, REGION_ADDRESS, 1, staging, 0, STAGING_ADDRESS, LKEY, false);
        assertThat(first.requests()).extracting(wr -> (wr.getSend_flags() & IbvSendWR.IBV_SEND_FENCE) != 0)
                .containsExactly(false, false, false, true, false, true);
        assertThat(first.endsWithReadOrAtomic()).isFalse();

        Batch next = new Batch();
        next.write(REGION, 0, new byte[8]);
        SendChain afterRead = SendChain.build(next, 2, REGION_ADDRESS, 1, staging, 0, STAGING_ADDRESS, LKEY, true);
        assertThat(afterRead.requests().get(0).getSend_flags() & IbvSendWR.IBV_SEND_FENCE).isNotZero();
    }

    @Test
    void writesAreStagedAndReadsAndAtomicsComeBackFromStaging() {
        Batch b = new Batch();
        int w = b.write(REGION, 0, new byte[] {9, 8, 7, 6, 5}, 1, 3);
        int r = b.read(REGION, 0, 3);
        int faa = b.fetchAndAdd(REGION, 8, 1);
        SendChain chain = SendChain.build(b, 1, REGION_ADDRESS, 1, staging, 128, STAGING_ADDRESS, LKEY, false);
        assertThat(chain.stagingOffset(w)).isEqualTo(128);
        assertThat(chain.requests().get(0).getSge(0).getAddr()).isEqualTo(STAGING_ADDRESS + 128);
        assertThat(chain.requests().get(0).getSge(0).getLength()).isEqualTo(3);
        byte[] staged = new byte[3];
        staging.get(128, staged);
        assertThat(staged).containsExactly(8, 7, 6);
        // Slots are 8-byte aligned, so the atomic's result is an aligned word.
        assertThat(chain.stagingOffset(r)).isEqualTo(136);
        assertThat(chain.stagingOffset(faa)).isEqualTo(144);
        assertThat(SendChain.stagingBytes(b)).isEqualTo(24);

        // What the NIC would write: READ data, then the atomic's old value in host order.
        staging.put(136, new byte[] {1, 2, 3});
        staging.putLong(144, 0x1122334455667788L);
        BatchResult result = chain.results(staging);
        assertThat(result.bytes(r)).containsExactly(1, 2, 3);
        assertThat(result.oldValue(faa)).isEqualTo(0x1122334455667788L);
    }

    @Test
    void flushIsAOneByteReadOfTheRangesLastByteAndZeroLengthPostsNothing() {
        Batch b = new Batch();
        b.write(REGION, 4096, new byte[100]);
        int flush = b.flush(REGION, 4096, 100);
        b.flush(REGION, REGION.sizeBytes(), 0);
        int emptyRead = b.read(REGION, 0, 0);
        b.write(REGION, 0, new byte[0]);
        SendChain chain = SendChain.build(b, 1, REGION_ADDRESS, 1, staging, 0, STAGING_ADDRESS, LKEY, false);
        assertThat(chain.requests()).hasSize(2);
        IbvSendWR read = chain.requests().get(1);
        assertThat(read.getWr_id()).isEqualTo(SendChain.wrId(1, flush));
        assertThat(read.getOpcode()).isEqualTo(IbvSendWR.IBV_WR_RDMA_READ);
        assertThat(read.getRdma().getRemote_addr()).isEqualTo(REGION_ADDRESS + 4096 + 99);
        assertThat(read.getSge(0).getLength()).isEqualTo(1);
        assertThat(SendChain.workRequests(b)).isEqualTo(2);
        assertThat(chain.results(staging).bytes(emptyRead)).isEmpty();
    }

    @Test
    void aBatchWithNothingToMovePostsNothing() {
        Batch b = new Batch();
        b.flush(REGION, 0, 0);
        SendChain chain = SendChain.build(b, 1, REGION_ADDRESS, 1, staging, 0, STAGING_ADDRESS, LKEY, true);
        assertThat(chain.requests()).isEmpty();
        assertThat(chain.endsWithReadOrAtomic()).as("fence state carries over").isTrue();
        assertThat(SendChain.stagingBytes(b)).isZero();
    }

    @Test
    void theLargestBatchFitsItsStagingBoundAndNumbersItsRequests() {
        Batch reads = new Batch();
        reads.read(REGION, 0, FabricLimits.MAX_TRANSFER_BYTES);
        reads.read(REGION, 0, FabricLimits.MAX_TRANSFER_BYTES);
        assertThat(SendChain.stagingBytes(reads)).isLessThanOrEqualTo(SendChain.MAX_STAGING_BYTES);
        Batch tiny = new Batch();
        for (int i = 0; i < FabricLimits.MAX_BATCH_VERBS; i++) {
            tiny.read(REGION, 0, 1);
        }
        assertThat(SendChain.stagingBytes(tiny)).isLessThanOrEqualTo(SendChain.MAX_STAGING_BYTES);
        assertThat(SendChain.sequenceOf(SendChain.wrId(5, FabricLimits.MAX_BATCH_VERBS - 1))).isEqualTo(5);
        assertThat(DisniConnection.STAGING_BYTES).isGreaterThanOrEqualTo(SendChain.MAX_STAGING_BYTES);
        assertThat(DisniFabric.COMPLETION_QUEUE_DEPTH)
                .isEqualTo(DisniFabric.MAX_CONNECTIONS * DisniConnection.SEND_QUEUE_DEPTH);
        assertThat(DisniConnection.SEND_QUEUE_DEPTH).isGreaterThanOrEqualTo(SendChain.workRequests(tiny));
    }
}
