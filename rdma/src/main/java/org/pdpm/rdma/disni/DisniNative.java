package org.pdpm.rdma.disni;

import com.ibm.disni.RdmaEndpointGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.pdpm.rdma.api.FabricException;

/**
 * Whether DiSNI can run here, and the one message that says why not. DiSNI loads libdisni when its
 * first endpoint group is built: a missing library (or a missing rdma-core library it links to)
 * raises {@link UnsatisfiedLinkError} once and {@link NoClassDefFoundError} ("Could not initialize
 * class NativeDispatcher") ever after, which names nothing useful. So the first
 * {@link LinkageError} is kept for the life of the JVM and every later attempt reports it.
 */
final class DisniNative {

    /** Where Linux lists RDMA devices (one directory per device: mlx5_0, rxe0, siw0, …). */
    static final Path RDMA_DEVICES = Path.of("/sys/class/infiniband");

    private static LinkageError firstLinkFailure;

    /** Builds and starts a DiSNI endpoint group; this is where libdisni gets loaded. */
    interface GroupFactory<G extends RdmaEndpointGroup<?>> {
        G create() throws IOException;
    }

    private DisniNative() {}

    /**
     * Builds a group with {@code factory}, or throws {@link FabricException} with status
     * UNAVAILABLE naming what is missing: the libdisni native library, rdma-core, an RDMA device.
     */
    static <G extends RdmaEndpointGroup<?>> G openGroup(GroupFactory<G> factory, String role) {
        LinkageError remembered;
        synchronized (DisniNative.class) {
            remembered = firstLinkFailure;
        }
        if (remembered != null) {
            throw unavailable(role, remembered, null);
        }
        List<String> devices = rdmaDevices();
        G group;
        try {
            group = factory.create();
        } catch (LinkageError e) {
            synchronized (DisniNative.class) {
                if (firstLinkFailure == null) {
                    firstLinkFailure = e;
                }
                remembered = firstLinkFailure;
            }
            throw unavailable(role, remembered, null);
        } catch (IOException e) {
            throw unavailable(role, null, e);
        }
        if (devices.isEmpty()) {
            // libdisni loaded, but rdma_cm has no device to bind or resolve through.
            try {
                group.close();
            } catch (IOException e) {
                // Nothing was connected through it; the unavailability below is what matters.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw unavailable(role, null, null);
        }
        return group;
    }

    static FabricException unavailable(String role, LinkageError linkFailure, IOException ioFailure) {
        List<String> missing = new ArrayList<>();
        if (linkFailure != null) {
            missing.add("the libdisni native library could not be loaded (" + linkFailure + ")");
        }
        if (ioFailure != null) {
            missing.add("rdma-core could not open the RDMA connection manager (" + ioFailure.getMessage() + ")");
        }
        if (rdmaDevices().isEmpty()) {
            missing.add("no RDMA device (" + RDMA_DEVICES + " is missing or empty)");
        }
        return new FabricException(FabricException.Status.UNAVAILABLE,
                "the disni fabric cannot " + role + " on this machine: " + String.join("; ", missing)
                        + ". It needs libdisni (DiSNI 2.1's native library, on java.library.path or LD_LIBRARY_PATH), "
                        + "rdma-core (libibverbs, librdmacm) and an RDMA device (a RoCE or InfiniBand NIC). "
                        + "Use the tcp fabric instead (memory nodes run by `pdpm memnode`, fabric=tcp); "
                        + "see docs/disni.md.",
                linkFailure != null ? linkFailure : ioFailure);
    }

    /** The RDMA devices the kernel lists; empty where it has no RDMA support or no NIC. */
    static List<String> rdmaDevices() {
        if (!Files.isDirectory(RDMA_DEVICES)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(RDMA_DEVICES)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
