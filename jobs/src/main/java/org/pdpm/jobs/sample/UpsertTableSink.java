package org.pdpm.jobs.sample;

import java.util.concurrent.ConcurrentMap;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/** Upserts each row into the run's {@link ResultTables table}. */
final class UpsertTableSink implements Sink<ResultRow> {

    private static final long serialVersionUID = 1L;

    private final String runId;

    UpsertTableSink(String runId) {
        this.runId = runId;
    }

    @Override
    public SinkWriter<ResultRow> createWriter(WriterInitContext context) {
        ConcurrentMap<ResultRow.Key, ResultRow> table = ResultTables.table(runId);
        return new SinkWriter<>() {
            @Override
            public void write(ResultRow row, Context ctx) {
                table.put(row.key(), row);
            }

            @Override
            public void flush(boolean endOfInput) {}

            @Override
            public void close() {}
        };
    }
}
