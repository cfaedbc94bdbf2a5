package org.pdpm.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PdpmCommandTest {

    @TempDir
    Path dir;

    /** What one in-process run of {@code pdpm} printed and returned. */
    record Run(int exitCode, String out, String err) {}

    static Run pdpm(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = PdpmCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--help                  | memnode",
        "memnode --help          | --listen",
        "memnode --help          | --pm",
        "memnode --help          | --size",
        "memnode --help          | --secret-file",
        "memnode --help          | --write-through",
        "bench --help            | fabric",
        "bench fabric --help     | --fabric",
        "bench fabric --help     | --memnodes",
        "bench fabric --help     | --out",
        "bench fabric --help     | --iterations",
        "bench fabric --help     | --duration-ms",
        "--help                  | metaserver",
        "metaserver --help       | --memnodes",
        "metaserver --help       | --replication",
        "--help                  | coordinator",
        "coordinator --help      | --memnodes",
        "coordinator --help      | --replication",
        "coordinator --help      | --secret-file",
        "--help                  | kv",
        "kv --help               | --system",
        "kv --help               | --metaserver",
        "bench --help            | kv",
        "bench kv --help         | --workload",
        "bench kv --help         | --zipf",
        "bench --help            | recovery",
        "bench recovery --help   | --keys",
        "--help                  | demo",
        "demo --help             | --backends",
        "demo --help             | --events",
        "demo --help             | --parallelism",
        "demo --help             | --no-failure",
        "--help                  | job",
        "job --help              | --backend",
        "job --help              | --failure",
    })
    void helpWorksOnEveryCommand(String args, String mentioned) {
        Run run = pdpm(args.trim().split(" +"));
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains(mentioned).contains("--help");
        assertThat(run.err()).isEmpty();
    }

    @Test
    void versionIsPrinted() {
        Run run = pdpm("--version");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).startsWith("pdpm ");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "                                                                   | pdpm: ",
        "nonsense                                                           | pdpm: ",
        "bench                                                              | pdpm bench: ",
        "memnode --listen 127.0.0.1:0 --pm /tmp/x.pm --size abc             | pdpm memnode: ",
        "memnode --listen 127.0.0.1:0 --pm /tmp/x.pm --size 0               | pdpm memnode: ",
        "memnode --listen 127.0.0.1 --pm /tmp/x.pm --size 64m               | pdpm memnode: ",
        "memnode --listen 127.0.0.1:99999 --pm /tmp/x.pm --size 64m         | pdpm memnode: ",
        "memnode --pm /tmp/x.pm --size 64m                                  | pdpm memnode: ",
        "memnode --listen 127.0.0.1:0 --pm /tmp/x.pm --size 64m --bogus     | pdpm memnode: ",
        "bench fabric --fabric carrier-pigeon                               | pdpm bench fabric: ",
        "bench fabric --iterations 0                                        | pdpm bench fabric: ",
        "bench fabric --pipeline-depth 0                                    | pdpm bench fabric: ",
        "bench fabric --memnodes nowhere                                    | pdpm bench fabric: ",
        "bench fabric --fabric local --secret-file /tmp/s                   | pdpm bench fabric: ",
    })
    void badArgumentsExitTwoWithOneLine(String args, String prefix) {
        Run run = pdpm(args == null ? new String[0] : args.trim().split(" +"));
        assertThat(run.exitCode()).isEqualTo(2);
        assertOneLine(run.err(), prefix);
        assertThat(run.out()).isEmpty();
    }

    @Test
    void sizeErrorNamesTheOptionAndTheValue() {
        Run run = pdpm("memnode", "--listen", "127.0.0.1:0", "--pm", dir.resolve("n.pm").toString(), "--size", "abc");
        assertThat(run.err()).contains("--size").contains("abc");
        assertThat(dir.resolve("n.pm")).doesNotExist();
    }

    @Test
    void missingSecretFileIsABadArgument() {
        Path pm = dir.resolve("n.pm");
        Run run = pdpm("memnode", "--listen", "127.0.0.1:0", "--pm", pm.toString(), "--size", "64k",
                "--secret-file", dir.resolve("absent").toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertOneLine(run.err(), "pdpm memnode: secret file ");
        assertThat(run.err()).contains("no such file");
        assertThat(pm).doesNotExist();
    }

    @Test
    void emptySecretFileIsABadArgument() throws IOException {
        Path secret = Files.writeString(dir.resolve("secret"), "  \n");
        Run run = pdpm("memnode", "--listen", "127.0.0.1:0", "--pm", dir.resolve("n.pm").toString(), "--size", "64k",
                "--secret-file", secret.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertOneLine(run.err(), "pdpm memnode: secret file ");
        assertThat(run.err()).contains("empty");
    }

    @Test
    void refusedPmFileIsABadArgument() throws IOException {
        Path pm = Files.write(dir.resolve("not-pm"), new byte[8192]);
        Run run = pdpm("memnode", "--listen", "127.0.0.1:0", "--pm", pm.toString(), "--size", "64k");
        assertThat(run.exitCode()).isEqualTo(2);
        assertOneLine(run.err(), "pdpm memnode: ");
        assertThat(run.err()).contains(pm.toString());
        assertThat(Files.readAllBytes(pm)).containsOnly(0);
    }

    @Test
    void oneLineJoinsMultiLineReasons() {
        assertThat(PdpmCommand.oneLine("first\n  second\r\nthird\n")).isEqualTo("first; second; third");
        assertThat(PdpmCommand.reason(new IllegalStateException())).isEqualTo("IllegalStateException");
    }

    static void assertOneLine(String err, String prefix) {
        assertThat(err).startsWith(prefix).endsWith(System.lineSeparator());
        assertThat(err.strip().lines()).hasSize(1);
    }
}
