package org.pdpm.jobs.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** {@code pdpm bench kv --chart}: throughput against threads, one line per system, as a PNG. */
public final class ThroughputChart {

    private static final int WIDTH = 800;
    private static final int HEIGHT = 500;

    private ThroughputChart() {}

    public static void write(Path file, String title, List<KvBenchmark.Result> results) throws IOException {
        // Benchmarks run on servers without a display; AWT must not look for one.
        System.setProperty("java.awt.headless", "true");
        Map<String, XYSeries> bySystem = new LinkedHashMap<>();
        for (KvBenchmark.Result r : results) {
            bySystem.computeIfAbsent(r.system(), XYSeries::new).add(r.threads(), r.throughputOpsPerSecond());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        bySystem.values().forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart(title, "threads", "throughput (ops/s)", data,
                PlotOrientation.VERTICAL, true, false, false);
        chart.getXYPlot().getDomainAxis().setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        if (chart.getXYPlot().getRenderer() instanceof XYLineAndShapeRenderer lines) {
            // Few points per line: each measured configuration should be visible as a point.
            lines.setDefaultShapesVisible(true);
        }
        ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
    }
}
