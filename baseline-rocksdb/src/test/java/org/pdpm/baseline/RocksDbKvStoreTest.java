package org.pdpm.baseline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.pdpm.core.api.Keys.utf8;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.StoreUnavailableException;
import org.rocksdb.Statistics;
import org.rocksdb.TickerType;

/** What the RocksDB store does beyond the contract: how it opens, scans, batches and closes. */
class RocksDbKvStoreTest {

    @TempDir
    Path dir;

    /**
     * RocksDB counts the bytes of every entry an iterator surfaces. A scan that surfaced anything
     * past its range, or walked the store from the start, would count more than its matches.
     */
    @Test
    void aPrefixScanSurfacesOnlyTheKeysOfItsRange() {
        try (Statistics statistics = new Statistics();
             RocksDbKvStore store = RocksDbKvStore.builder().path(dir).statistics(statistics).open()) {
            List<KvEntry> load = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                load.add(new KvEntry(utf8(String.format("user/%05d/name", i)), utf8("name of " + i)));
            }
            store.putAll(load);

            long bytesBefore = statistics.getTickerCount(TickerType.ITER_BYTES_READ);
            long seeksBefore = statistics.getTickerCount(TickerType.NUMBER_DB_SEEK);
            long nextsBefore = statistics.getTickerCount(TickerType.NUMBER_DB_NEXT);
            List<KvEntry> matches = new ArrayList<>();
            try (KvCursor cursor = store.scan(utf8("user/0420"))) {
                cursor.forEachRemaining(matches::add);
            }

            assertThat(matches).hasSize(10);
            long matchBytes = 0;
            for (int i = 0; i < 10; i++) {
                assertThat(matches.get(i).key()).isEqualTo(utf8(String.format("user/0420%d/name", i)));
                assertThat(matches.get(i).value()).isEqualTo(utf8("name of " + (4200 + i)));
                matchBytes += matches.get(i).key().length + matches.get(i).value().length;
            }
            assertThat(statistics.getTickerCount(TickerType.ITER_BYTES_READ) - bytesBefore).isEqualTo(matchBytes);
            assertThat(statistics.getTickerCount(TickerType.NUMBER_DB_SEEK) - seeksBefore).isEqualTo(1);
            assertThat(statistics.getTickerCount(TickerType.NUMBER_DB_NEXT) - nextsBefore).isEqualTo(10);
        }
    }

    @Test
    void aPathThatIsAFileIsRejectedNamingIt() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "x");
        assertThatThrownBy(() -> RocksDbKvStore.builder().path(file).open())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("path=" + file);
        assertThatThrownBy(() -> RocksDbKvStore.builder().path(file.resolve("below")).open())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("path=" + file.resolve("below"));
    }

    @Test
    void aDirectoryInUseByAnotherStoreIsReportedNamingIt() {
        try (RocksDbKvStore first = RocksDbKvStore.builder().path(dir).open()) {
            assertThatThrownBy(() -> RocksDbKvStore.builder().path(dir).open())
                    .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("path=" + dir);
            first.put(utf8("k"), utf8("v"));
            assertThat(first.get(utf8("k"))).isEqualTo(utf8("v"));
        }
    }

    @Test
    void openWithoutAPathIsAMisuse() {
        assertThatThrownBy(() -> RocksDbKvStore.builder().open())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("path");
    }

    @Test
    void closeReleasesOpenCursorsAndCanBeRepeated() {
        RocksDbKvStore store = RocksDbKvStore.builder().path(dir).open();
        store.put(utf8("a1"), utf8("1"));
        store.put(utf8("a2"), utf8("2"));
        KvCursor cursor = store.scan(utf8("a"));
        assertThat(cursor.next().key()).isEqualTo(utf8("a1"));

        store.close();
        store.close();
        cursor.close();
        assertThatThrownBy(cursor::hasNext).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> store.get(utf8("a1"))).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> store.scan(utf8("a"))).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");

        // The directory's lock was released with the database.
        try (RocksDbKvStore again = RocksDbKvStore.builder().path(dir).open()) {
            assertThat(again.get(utf8("a2"))).isEqualTo(utf8("2"));
        }
    }

    @Test
    void batchesCountEachKeyAndGiveRoundTripsAsNotOnTheFabric() {
        try (RocksDbKvStore store = RocksDbKvStore.builder().path(dir).open()) {
            store.putAll(List.of(new KvEntry(utf8("a"), utf8("1")), new KvEntry(utf8("b"), utf8("2")), KvEntry.deletion(utf8("c"))));
            store.getAll(List.of(utf8("a"), utf8("b"), utf8("c"), utf8("d")));
            KvStats stats = store.stats();
            assertThat(stats.puts()).isEqualTo(2);
            assertThat(stats.deletes()).isEqualTo(1);
            assertThat(stats.gets()).isEqualTo(4);
            assertThat(stats.getRoundTrips()).isEqualTo(-1);
            assertThat(stats.putRoundTrips()).isEqualTo(-1);
            assertThat(stats.roundTripsPerGet()).isNaN();
        }
    }

    @Test
    void limitsGivenToTheBuilderAreEnforced() {
        try (RocksDbKvStore store = RocksDbKvStore.builder().path(dir).limits(new KvLimits(4, 8)).syncWrites(false).open()) {
            assertThat(store.limits()).isEqualTo(new KvLimits(4, 8));
            store.put(utf8("abcd"), utf8("12345678"));
            assertThatThrownBy(() -> store.put(utf8("abcde"), utf8("1"))).hasMessageContaining("maxKeyBytes=4");
            assertThatThrownBy(() -> store.put(utf8("a"), utf8("123456789"))).hasMessageContaining("maxValueBytes=8");
        }
        assertThat(RocksDbKvStore.DEFAULT_LIMITS).isEqualTo(new KvLimits(1024, 1 << 20));
    }
}
