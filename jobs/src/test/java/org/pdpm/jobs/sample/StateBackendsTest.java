package org.pdpm.jobs.sample;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Backend names resolve as Flink resolves them, and a missing backend is named clearly. Budget: 1 s. */
class StateBackendsTest {

    private static final ClassLoader LOADER = StateBackendsTest.class.getClassLoader();

    @Test
    void flinksBackendsAndFactoryClassesLoad() {
        assertThatCode(() -> StateBackends.requireLoadable("hashmap", LOADER)).doesNotThrowAnyException();
        assertThatCode(() -> StateBackends.requireLoadable("rocksdb", LOADER)).doesNotThrowAnyException();
        assertThatCode(() -> StateBackends.requireLoadable("RocksDB", LOADER)).doesNotThrowAnyException();
        assertThatCode(() -> StateBackends.requireLoadable(AmnesicStateBackendFactory.class.getName(), LOADER))
                .doesNotThrowAnyException();
    }

    @Test
    void aMissingClassIsNamed() {
        assertThatThrownBy(() -> StateBackends.requireLoadable("org.example.NoSuchFactory", LOADER))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("state backend 'org.example.NoSuchFactory' is not available: class org.example.NoSuchFactory is not on the class path");
    }

    @Test
    void aClassThatIsNoFactoryIsRefused() {
        assertThatThrownBy(() -> StateBackends.requireLoadable(String.class.getName(), LOADER))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a org.apache.flink.runtime.state.StateBackendFactory");
    }

    @Test
    void pdpmLoadsOrSaysWhereItComesFrom() {
        boolean present;
        try {
            Class.forName("pdpm", false, LOADER);
            present = true;
        } catch (ClassNotFoundException e) {
            present = false;
        }
        if (present) {
            assertThatCode(() -> StateBackends.requireLoadable("pdpm", LOADER)).doesNotThrowAnyException();
            assertThatCode(() -> StateBackends.requireLoadable(StateBackends.PDPM_FACTORY, LOADER)).doesNotThrowAnyException();
        } else {
            assertThatThrownBy(() -> StateBackends.requireLoadable("pdpm", LOADER))
                    .hasMessageStartingWith("state backend 'pdpm' is not available: class pdpm is not on the class path")
                    .hasMessageContaining("flink-statebackend-pdpm");
        }
    }
}
