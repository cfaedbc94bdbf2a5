package org.pdpm.jobs.bench;

import java.util.Locale;

/** The fabrics {@code pdpm bench fabric} knows how to reach. */
public enum FabricKind {
    LOCAL,
    TCP,
    DISNI;

    /** The name the fabric goes by in output and on the command line. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
