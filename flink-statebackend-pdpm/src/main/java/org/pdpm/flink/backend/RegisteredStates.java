package org.pdpm.flink.backend;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.apache.flink.runtime.state.RegisteredPriorityQueueStateBackendMetaInfo;
import org.apache.flink.runtime.state.RegisteredStateMetaInfoBase;
import org.apache.flink.runtime.state.metainfo.StateMetaInfoSnapshot;
import org.pdpm.flink.state.AbstractPdpmState;

/**
 * The states a backend knows — registered by the job or restored from a checkpoint — with their
 * meta data and their id in store keys. The id is a hash of the name, so it is the same in every
 * subtask and after every restore without being recorded; two names of one backend that hash alike
 * are refused, naming both.
 */
final class RegisteredStates {

    /** One state: its id in keys, Flink's meta data, and the state object once the job asked for it. */
    static final class Entry {
        final int id;
        RegisteredStateMetaInfoBase metaInfo;
        AbstractPdpmState<?, ?, ?> state;

        Entry(int id, RegisteredStateMetaInfoBase metaInfo) {
            this.id = id;
            this.metaInfo = metaInfo;
        }

        boolean isTimers() {
            return metaInfo instanceof RegisteredPriorityQueueStateBackendMetaInfo;
        }
    }

    private final Map<String, Entry> byName = new LinkedHashMap<>();
    private final Map<Integer, String> nameById = new HashMap<>();

    static int idOf(String name) {
        CRC32C crc = new CRC32C();
        crc.update(name.getBytes(StandardCharsets.UTF_8));
        return (int) crc.getValue();
    }

    Entry get(String name) {
        return byName.get(name);
    }

    Entry register(RegisteredStateMetaInfoBase metaInfo) {
        String name = metaInfo.getName();
        Entry existing = byName.get(name);
        if (existing != null) {
            existing.metaInfo = metaInfo;
            return existing;
        }
        int id = idOf(name);
        String clash = nameById.putIfAbsent(id, name);
        if (clash != null) {
            throw new IllegalStateException("states '" + clash + "' and '" + name + "' have the same id " + id
                    + " in the pdpm backend's keys; rename one of them");
        }
        Entry e = new Entry(id, metaInfo);
        byName.put(name, e);
        return e;
    }

    /** Registers what a checkpoint or savepoint recorded, unless the state is known already. */
    void restore(List<StateMetaInfoSnapshot> snapshots) {
        for (StateMetaInfoSnapshot s : snapshots) {
            if (!byName.containsKey(s.getName())) {
                register(RegisteredStateMetaInfoBase.fromMetaInfoSnapshot(s));
            }
        }
    }

    Collection<Entry> all() {
        return byName.values();
    }

    boolean isEmpty() {
        return byName.isEmpty();
    }

    /** Meta data of every state, in the order their entries are numbered in a full snapshot. */
    List<StateMetaInfoSnapshot> snapshots() {
        List<StateMetaInfoSnapshot> out = new ArrayList<>(byName.size());
        for (Entry e : byName.values()) {
            out.add(e.metaInfo.snapshot());
        }
        return out;
    }

    List<Entry> ordered() {
        return new ArrayList<>(byName.values());
    }
}
