package org.pdpm.jobs.sample;

import java.util.Locale;
import org.apache.flink.runtime.state.StateBackendFactory;
import org.apache.flink.runtime.state.StateBackendLoader;

/**
 * Checks that a {@code state.backend.type} value can be loaded here, before a job is submitted
 * with it: Flink would otherwise fail the job at submission with a less direct message. Resolves
 * names as Flink's {@link StateBackendLoader} does — its short names, else the class name of a
 * {@link StateBackendFactory} — and loads the class without instantiating it.
 */
public final class StateBackends {

    /** The pdpm backend's factory; the short name {@code pdpm} is an alias class of that name. */
    public static final String PDPM_FACTORY = "org.pdpm.flink.PdpmStateBackendFactory";

    private static final String ROCKSDB_FACTORY = "org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackendFactory";
    private static final String FORST_FACTORY = "org.apache.flink.state.forst.ForStStateBackendFactory";

    private StateBackends() {}

    /** @throws IllegalArgumentException naming the backend and the class that is missing or wrong */
    public static void requireLoadable(String name, ClassLoader classLoader) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("state backend name is empty");
        }
        String lower = name.toLowerCase(Locale.ROOT);
        String factoryClass = switch (lower) {
            case StateBackendLoader.HASHMAP_STATE_BACKEND_NAME -> null;
            case StateBackendLoader.ROCKSDB_STATE_BACKEND_NAME -> ROCKSDB_FACTORY;
            case StateBackendLoader.FORST_STATE_BACKEND_NAME -> FORST_FACTORY;
            default -> name;
        };
        if (factoryClass == null) {
            return;
        }
        Class<?> type;
        try {
            type = Class.forName(factoryClass, false, classLoader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException(notLoadable(name, factoryClass, e), e);
        }
        if (!StateBackendFactory.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException("state backend '" + name + "': class " + factoryClass
                    + " is not a " + StateBackendFactory.class.getName());
        }
    }

    private static String notLoadable(String name, String factoryClass, Throwable e) {
        String why = e instanceof ClassNotFoundException ? "is not on the class path" : "cannot be loaded (" + e + ")";
        if (name.equals("pdpm") || name.equals(PDPM_FACTORY)) {
            return "state backend '" + name + "' is not available: class " + factoryClass + " " + why
                    + " — it comes from the flink-statebackend-pdpm module (" + PDPM_FACTORY
                    + " and its alias class 'pdpm'); run with --backends hashmap,rocksdb until it is built";
        }
        return "state backend '" + name + "' is not available: class " + factoryClass + " " + why
                + " (Flink reads any name other than hashmap, rocksdb and forst as the class name of a state backend factory)";
    }
}
