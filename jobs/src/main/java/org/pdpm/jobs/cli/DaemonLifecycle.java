package org.pdpm.jobs.cli;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.pdpm.rdma.api.NodeAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * How every {@code pdpm} daemon serves (DESIGN §5): one {@code listening on HOST:PORT} line once it
 * serves, then it runs until SIGTERM or SIGINT — handled, not left to the JVM's default, so a clean
 * stop exits 0 — or any other JVM shutdown, which still closes it through a shutdown hook.
 * {@code kill -9} closes nothing: what survives is what the daemon had made durable.
 */
final class DaemonLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(DaemonLifecycle.class);

    private DaemonLifecycle() {}

    /** Prints the listening line and blocks until stopped; {@code close} runs exactly once. */
    static void serve(String name, InetSocketAddress bound, PrintWriter out, Runnable close) throws InterruptedException {
        AtomicBoolean stopping = new AtomicBoolean();
        CountDownLatch stopped = new CountDownLatch(1);
        Runnable stop = () -> {
            if (stopping.compareAndSet(false, true)) {
                try {
                    close.run();
                } finally {
                    stopped.countDown();
                }
            }
        };
        Thread hook = new Thread(stop, "pdpm-" + name.replace(' ', '-') + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        handleStopSignals(name, stop);
        try {
            out.println("listening on " + new NodeAddress(bound.getHostString(), bound.getPort()));
            out.flush();
            stopped.await();
        } finally {
            stop.run();
            removeShutdownHook(hook);
        }
        LOG.info("{} stopped cleanly", name);
    }

    private static void handleStopSignals(String name, Runnable stop) {
        for (String signal : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(signal), s -> {
                    LOG.info("SIG{} received: closing the {}", signal, name);
                    stop.run();
                });
            } catch (IllegalArgumentException e) {
                // The JVM keeps this signal (e.g. under -Xrs); the shutdown hook still closes the daemon.
                LOG.warn("cannot handle SIG{} ({}); the shutdown hook will close the {}", signal, e.getMessage(), name);
            }
        }
    }

    private static void removeShutdownHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down and runs the hook anyway; stopping twice is harmless.
            LOG.debug("shutdown in progress; hook left in place", e);
        }
    }
}
