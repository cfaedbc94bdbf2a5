package org.pdpm.jobs.sample;

import java.util.stream.Stream;

/**
 * The state backends every MiniCluster test of the sample job runs on, by their
 * {@code state.backend.type} name. Adding a backend here (e.g. "pdpm") adds it to all of them.
 */
final class TestedBackends {

    private TestedBackends() {}

    static Stream<String> all() {
        return Stream.of("hashmap", "rocksdb", "pdpm");
    }
}
