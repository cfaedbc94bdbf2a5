package org.pdpm.flink.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.StateBackendLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.flink.PdpmOptions;
import org.pdpm.flink.PdpmStateBackend;
import org.pdpm.flink.pool.PoolSpec;
import org.pdpm.rdma.api.NodeAddress;

/** Selecting and configuring the backend the ways DESIGN §4 and §5 promise; bad values fail naming their key. */
class PdpmConfigurationTest {

    private static StateBackend load(Configuration config) throws Exception {
        return StateBackendLoader.loadStateBackendFromConfig(config, PdpmConfigurationTest.class.getClassLoader(), null);
    }

    @Test
    void theShortNameAndTheFactoryClassNameBothSelectIt() throws Exception {
        for (String name : List.of("pdpm", "org.pdpm.flink.PdpmStateBackendFactory")) {
            Configuration config = new Configuration();
            config.set(StateBackendOptions.STATE_BACKEND, name);
            StateBackend backend = load(config);
            assertThat(backend).isInstanceOf(PdpmStateBackend.class);
            assertThat(((PdpmStateBackend) backend).pool().embedded()).isTrue();
            assertThat(((PdpmStateBackend) backend).timerService()).isEqualTo(PdpmOptions.TimerService.STORE);
        }
    }

    @Test
    void configYamlTakesMemoryNodesAsAYamlList(@TempDir Path dir) throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "s3cret\n");
        Files.writeString(dir.resolve("config.yaml"), String.join("\n",
                "state:",
                "  backend:",
                "    type: pdpm",
                "    pdpm:",
                "      memory-nodes:",
                "        - n0:7000",
                "        - n1:7000",
                "      metadata-server: ms:7100",
                "      secret-file: " + secret,
                "      timer-service: heap",
                ""));
        Configuration config = GlobalConfiguration.loadConfiguration(dir.toString());
        PdpmStateBackend backend = (PdpmStateBackend) load(config);
        PoolSpec pool = backend.pool();
        assertThat(pool.memoryNodes()).containsExactly(new NodeAddress("n0", 7000), new NodeAddress("n1", 7000));
        assertThat(pool.metadataServer()).isEqualTo(new NodeAddress("ms", 7100));
        assertThat(pool.replication()).isEqualTo(2);
        assertThat(pool.secret()).isEqualTo("s3cret");
        assertThat(pool.fabric()).isEqualTo(PdpmOptions.FabricType.TCP);
        assertThat(backend.timerService()).isEqualTo(PdpmOptions.TimerService.HEAP);
    }

    @Test
    void directNeedsOnlyItsMemoryNodesAndCentralOnlyItsCoordinator() {
        Configuration direct = new Configuration();
        direct.setString("state.backend.pdpm.system", "direct");
        direct.setString("state.backend.pdpm.memory-nodes", "a:1;b:2");
        direct.setString("state.backend.pdpm.secret-file", writeSecret());
        PoolSpec d = PoolSpec.from(direct);
        assertThat(d.embedded()).isFalse();
        assertThat(d.remoteId()).isEqualTo("a:1");
        assertThat(d.replication()).isEqualTo(2);

        Configuration central = new Configuration();
        central.setString("state.backend.pdpm.system", "central");
        central.setString("state.backend.pdpm.coordinator", "co:7200");
        central.setString("state.backend.pdpm.secret-file", writeSecret());
        PoolSpec c = PoolSpec.from(central);
        assertThat(c.embedded()).isFalse();
        assertThat(c.fabric()).isEqualTo(PdpmOptions.FabricType.TCP);
        assertThat(c.remoteId()).isEqualTo("co:7200");

        Configuration embedded = new Configuration();
        embedded.setString("state.backend.pdpm.system", "central");
        assertThat(PoolSpec.from(embedded).embedded()).isTrue();
    }

    @Test
    void flinkListSyntaxWorksToo() {
        Configuration config = new Configuration();
        config.setString("state.backend.pdpm.memory-nodes", "a:1;b:2;c:3");
        config.setString("state.backend.pdpm.metadata-server", "ms:9");
        config.setString("state.backend.pdpm.replication", "3");
        config.setString("state.backend.pdpm.secret-file", writeSecret());
        assertThat(PoolSpec.from(config).memoryNodes()).hasSize(3);
    }

    @Test
    void invalidValuesFailAtStartNamingTheirKey() {
        assertFails("state.backend.pdpm.replication", "4", "state.backend.pdpm.replication");
        assertFails("state.backend.pdpm.system", "paxos", "state.backend.pdpm.system");
        assertFails("state.backend.pdpm.timer-service", "disk", "state.backend.pdpm.timer-service");
        assertFails("state.backend.pdpm.fabric", "tcp", "state.backend.pdpm.memory-nodes");
        assertFails("state.backend.pdpm.local.size", "1mb", "state.backend.pdpm.local.size");
        assertFails("state.backend.pdpm.write-buffer", "lots", "state.backend.pdpm.write-buffer");
        assertFails("state.backend.pdpm.read-cache", "-1mb", "state.backend.pdpm.read-cache");

        Configuration centralWithNodes = new Configuration();
        centralWithNodes.setString("state.backend.pdpm.system", "central");
        centralWithNodes.setString("state.backend.pdpm.memory-nodes", "a:1");
        assertThatThrownBy(() -> PoolSpec.from(centralWithNodes)).isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("state.backend.pdpm.coordinator");

        Configuration centralNoSecret = new Configuration();
        centralNoSecret.setString("state.backend.pdpm.system", "central");
        centralNoSecret.setString("state.backend.pdpm.coordinator", "co:7200");
        assertThatThrownBy(() -> PoolSpec.from(centralNoSecret)).isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("state.backend.pdpm.secret-file");

        Configuration noServer = new Configuration();
        noServer.setString("state.backend.pdpm.memory-nodes", "a:1");
        assertThatThrownBy(() -> PoolSpec.from(noServer)).isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("state.backend.pdpm.metadata-server");

        Configuration badAddress = new Configuration();
        badAddress.setString("state.backend.pdpm.memory-nodes", "nohost");
        assertThatThrownBy(() -> PoolSpec.from(badAddress)).isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("state.backend.pdpm.memory-nodes");
    }

    private static void assertFails(String key, String value, String named) {
        Configuration config = new Configuration();
        config.setString(key, value);
        assertThatThrownBy(() -> new PdpmStateBackend().configure(config, PdpmConfigurationTest.class.getClassLoader()))
                .hasMessageContaining(named);
    }

    private static String writeSecret() {
        try {
            Path f = Files.createTempFile("pdpm-secret", "");
            f.toFile().deleteOnExit();
            Files.writeString(f, "s");
            return f.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
