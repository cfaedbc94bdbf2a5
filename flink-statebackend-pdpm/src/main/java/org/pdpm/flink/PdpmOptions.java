package org.pdpm.flink;

import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;

/** The {@code state.backend.pdpm.*} options (DESIGN §5): typed, with defaults and descriptions. */
public final class PdpmOptions {

    /** Which key-value store on the memory nodes holds the state. */
    public enum StoreSystem {
        CLOVER, DIRECT, CENTRAL
    }

    /** How compute nodes reach the memory nodes. */
    public enum FabricType {
        LOCAL, TCP, DISNI
    }

    /** Where timers live. */
    public enum TimerService {
        STORE, HEAP
    }

    public static final ConfigOption<StoreSystem> SYSTEM = ConfigOptions.key("state.backend.pdpm.system")
            .enumType(StoreSystem.class)
            .defaultValue(StoreSystem.CLOVER)
            .withDescription("The key-value store that holds keyed state: clover, direct or central.");

    public static final ConfigOption<FabricType> FABRIC = ConfigOptions.key("state.backend.pdpm.fabric")
            .enumType(FabricType.class)
            .noDefaultValue()
            .withDescription("How TaskManagers reach the memory nodes: local (an embedded pool in this JVM),"
                    + " tcp (pdpm memnode daemons) or disni (RDMA NICs). Default: local when no memory nodes"
                    + " are given, else tcp.");

    public static final ConfigOption<List<String>> MEMORY_NODES = ConfigOptions.key("state.backend.pdpm.memory-nodes")
            .stringType()
            .asList()
            .noDefaultValue()
            .withDescription("The pool's memory nodes as host:port, in pool order (a YAML list, or ';'-separated)."
                    + " None: an embedded local pool inside this JVM, for single-process runs.");

    public static final ConfigOption<String> METADATA_SERVER = ConfigOptions.key("state.backend.pdpm.metadata-server")
            .stringType()
            .noDefaultValue()
            .withDescription("host:port of Clover's metadata server (pdpm metaserver); needed with memory nodes.");

    public static final ConfigOption<String> COORDINATOR = ConfigOptions.key("state.backend.pdpm.coordinator")
            .stringType()
            .noDefaultValue()
            .withDescription("host:port of pDPM-Central's coordinator (pdpm coordinator).");

    public static final ConfigOption<Integer> REPLICATION = ConfigOptions.key("state.backend.pdpm.replication")
            .intType()
            .noDefaultValue()
            .withDescription("Memory nodes holding each value, 1..3. Default: 1 on the embedded pool, 2 otherwise.");

    public static final ConfigOption<String> SECRET_FILE = ConfigOptions.key("state.backend.pdpm.secret-file")
            .stringType()
            .noDefaultValue()
            .withDescription("A file whose one line is the memory nodes' and servers' shared secret.");

    public static final ConfigOption<MemorySize> LOCAL_SIZE = ConfigOptions.key("state.backend.pdpm.local.size")
            .memoryType()
            .defaultValue(MemorySize.parse("256mb"))
            .withDescription("Size of each memory node of the embedded local pool.");

    public static final ConfigOption<TimerService> TIMER_SERVICE = ConfigOptions.key("state.backend.pdpm.timer-service")
            .enumType(TimerService.class)
            .defaultValue(TimerService.STORE)
            .withDescription("Where timers live: store (in the key-value store, so checkpoints stay O(1)) or heap"
                    + " (every checkpoint then copies all timers into checkpoint storage).");

    public static final ConfigOption<MemorySize> WRITE_BUFFER = ConfigOptions.key("state.backend.pdpm.write-buffer")
            .memoryType()
            .defaultValue(MemorySize.parse("64mb"))
            .withDescription("Per lineage of a task: state writes buffered in the TaskManager's heap (overwrites of"
                    + " a key coalesce) and written to the store in the background once this much is buffered, and at"
                    + " every checkpoint. Writes made after the last checkpoint are discarded by any restore, so the"
                    + " buffer loses nothing a restore could see. The default is the size of RocksDB's write buffer"
                    + " in Flink; all buffers of a TaskManager together hold at most an eighth of its heap. 0 writes"
                    + " every update through to the store.");

    public static final ConfigOption<MemorySize> READ_CACHE = ConfigOptions.key("state.backend.pdpm.read-cache")
            .memoryType()
            .defaultValue(MemorySize.ZERO)
            .withDescription("Per lineage of a task: values the task read, kept in the TaskManager's heap (and up to"
                    + " date with its writes) so that a repeated read costs no round trip; the least recently used go"
                    + " first, and a full cache takes a key only on its second miss. They stay true because a task is"
                    + " the only writer of its lineage. All caches of a TaskManager together hold about an eighth of"
                    + " its heap at most. Off (0) by default: it pays off for jobs that read the same keys again and"
                    + " again, and costs heap and garbage collection otherwise (docs/flink-backend.md).");

    private PdpmOptions() {
    }
}
