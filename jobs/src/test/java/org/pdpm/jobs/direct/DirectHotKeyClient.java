package org.pdpm.jobs.direct;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.direct.DirectStore;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * The pDPM-Direct client that {@link DirectProcessTest} kills with {@code kill -9}: run as its own
 * JVM, it overwrites a few hot keys (one thread per key) and creates new keys (one thread, so it
 * also takes the pool's index lock), for ever, and prints one line per finished put:
 * {@code ack KEY SEQ} or {@code unknown KEY SEQ} (the put failed: its outcome is for the next taker
 * of the lock to decide). A put is printed only after it returned, so the put after a key's last
 * printed line may be in flight. It exits when its stdin closes (the test JVM is gone).
 *
 * <p>Arguments: {@code MEMNODES SECRET_FILE ROUND HOT_KEY...}.
 */
public final class DirectHotKeyClient {

    /** Orders of one round's values lie in {@code [round * ROUND_SPAN, (round + 1) * ROUND_SPAN)}. */
    static final long ROUND_SPAN = 1_000_000;
    /** Within its round, the test's own write after the kill comes after every value of the client. */
    static final long TEST_WRITE = ROUND_SPAN - 1;
    static final String CREATED_PREFIX = "new/";

    private DirectHotKeyClient() {
    }

    public static void main(String[] args) throws IOException {
        List<NodeAddress> nodes = Arrays.stream(args[0].split(",")).map(NodeAddress::parse).toList();
        String secret = Files.readString(Path.of(args[1]), StandardCharsets.UTF_8).trim();
        long round = Long.parseLong(args[2]);
        List<String> hotKeys = List.of(args).subList(3, args.length);
        Thread orphanGuard = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // nothing is sent; EOF means the test JVM is gone
                }
            } catch (IOException e) {
                // as EOF
            }
            Runtime.getRuntime().halt(3);
        }, "orphan-guard");
        orphanGuard.setDaemon(true);
        orphanGuard.start();

        TcpFabric fabric = new TcpFabric(secret);
        DirectStore store = DirectStore.builder().fabric(fabric).memoryNodes(nodes).open();
        PrintStream out = System.out;
        List<Thread> threads = new ArrayList<>();
        for (String key : hotKeys) {
            threads.add(new Thread(() -> {
                for (long seq = 1; ; seq++) {
                    put(store, out, key, seq, round * ROUND_SPAN + seq);
                }
            }, "hot-" + key));
        }
        threads.add(new Thread(() -> {
            for (long n = 1; ; n++) {
                put(store, out, CREATED_PREFIX + round + "/" + n, n, round * ROUND_SPAN + n);
            }
        }, "creator"));
        threads.forEach(Thread::start);
    }

    private static void put(DirectStore store, PrintStream out, String key, long seq, long order) {
        try {
            store.put(key.getBytes(StandardCharsets.UTF_8), value(key, order));
            out.println("ack " + key + " " + seq);
        } catch (StoreUnavailableException e) {
            out.println("unknown " + key + " " + seq);
        }
    }

    /**
     * The value with the given order for {@code key}: {@code key#order#} and a body whose length
     * and bytes follow from both, so a value made of two writes' pieces is told apart.
     */
    static byte[] value(String key, long order) {
        String head = key + "#" + order + "#";
        SplittableRandom bytes = new SplittableRandom(order * 31 + key.hashCode());
        int length = 40 + bytes.nextInt(400);
        StringBuilder sb = new StringBuilder(head.length() + length).append(head);
        for (int i = 0; i < length; i++) {
            sb.append((char) ('a' + bytes.nextInt(26)));
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The order of a whole value of {@code key}; -1 when the bytes are not exactly one such value, or absent. */
    static long orderOf(String key, byte[] value) {
        if (value == null) {
            return -1;
        }
        String s = new String(value, StandardCharsets.UTF_8);
        String head = key + "#";
        int end = s.indexOf('#', head.length());
        if (!s.startsWith(head) || end < 0) {
            return -1;
        }
        long order;
        try {
            order = Long.parseLong(s.substring(head.length(), end));
        } catch (NumberFormatException e) {
            return -1;
        }
        return Arrays.equals(value, value(key, order)) ? order : -1;
    }
}
