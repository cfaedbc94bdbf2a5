package org.pdpm.jobs.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.LinkedHashMap;
import java.util.Map;

/** What a benchmark ran on, written next to every result so that results can be compared. */
public final class MachineInfo {

    private MachineInfo() {}

    /** {@code cores}, {@code memory_bytes} (-1 when the JVM cannot tell), {@code jvm}, {@code os}. */
    public static Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("memory_bytes", physicalMemoryBytes());
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        return m;
    }

    private static long physicalMemoryBytes() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        // The total is only in the JDK's extension of the bean (HotSpot and OpenJ9 both have it).
        if (os instanceof com.sun.management.OperatingSystemMXBean ext) {
            return ext.getTotalMemorySize();
        }
        return -1;
    }
}
