package org.pdpm.core.linearizability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HistoryTest {

    @Test
    void recordsCallsWithTicksTakenAroundThem() {
        History history = new History();
        History.Recorder zero = history.recorder(0);
        History.Recorder one = history.recorder(1);

        History.Call put = zero.invokePut("k", "v");
        History.Call get = one.invokeGet("k");
        put.returned();
        get.returnedValue("v");
        zero.invokeDelete("k").returned();

        assertThat(history.operations()).containsExactly(
                Operation.put(0, "k", "v", 1, 3),
                Operation.get(1, "k", "v", 2, 4),
                Operation.delete(0, "k", 5, 6));
    }

    @Test
    void aCallThatNeverReturnedIsPending() {
        History history = new History();
        History.Recorder recorder = history.recorder(3);
        recorder.invokePut("k", "v");
        recorder.invokeGet("k");

        assertThat(history.operations()).containsExactly(
                Operation.pendingPut(3, "k", "v", 1),
                Operation.get(3, "k", null, 2, Operation.PENDING));
    }

    @Test
    void aCallReturnsOnceAndOnlyAGetReturnsAValue() {
        History.Recorder recorder = new History().recorder(0);
        History.Call put = recorder.invokePut("k", "v");

        assertThatThrownBy(() -> put.returnedValue("v"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("only a GET returns a value: kind=PUT key=k");
        assertThatThrownBy(() -> recorder.invokeGet("k").returned())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("a GET returns a value: key=k");
        put.returned();
        assertThatThrownBy(put::returned)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("call already returned: key=k returnedAt=");
    }

    @Test
    void concurrentClientsGetDistinctTicksAndTheirOwnCallsInOrder() throws InterruptedException {
        History history = new History();
        int clients = 4;
        int callsPerClient = 2_000;
        Thread[] threads = new Thread[clients];
        for (int c = 0; c < clients; c++) {
            History.Recorder recorder = history.recorder(c);
            threads[c] = new Thread(() -> {
                for (int n = 0; n < callsPerClient; n++) {
                    recorder.invokeGet("k").returnedValue(null);
                }
            });
            threads[c].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }

        List<Operation> operations = history.operations();
        assertThat(operations).hasSize(clients * callsPerClient);
        Set<Long> ticks = new HashSet<>();
        long[] lastReturnOf = new long[clients];
        for (Operation op : operations) {
            ticks.add(op.invokedAt());
            ticks.add(op.returnedAt());
            assertThat(op.invokedAt()).isGreaterThan(lastReturnOf[op.client()]);
            lastReturnOf[op.client()] = op.returnedAt();
        }
        assertThat(ticks).hasSize(2 * clients * callsPerClient);
    }

    @Test
    void anOperationIsCheckedWhenMade() {
        assertThatThrownBy(() -> Operation.put(0, "k", null, 1, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a PUT needs a value: key=k");
        assertThatThrownBy(() -> Operation.get(0, "k", "v", 5, 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("returnedAt=4 is before invokedAt=5");
    }
}
