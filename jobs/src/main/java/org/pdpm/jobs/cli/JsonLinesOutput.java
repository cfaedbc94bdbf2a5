package org.pdpm.jobs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import picocli.CommandLine.Option;

/** The benchmarks' output (DESIGN §5): each JSON line to stdout, and appended to {@code --out}. */
final class JsonLinesOutput {

    @Option(names = "--out", paramLabel = "FILE", description = "Also append each JSON line to this file.")
    private Path outFile;

    void emit(PrintWriter out, String line) throws IOException {
        out.println(line);
        out.flush();
        if (outFile != null) {
            Files.writeString(outFile, line + System.lineSeparator(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }
}
