package org.pdpm.core.api;

/** The memory pool has no room for this write even after garbage collection; nothing was changed. */
public class SpaceExhaustedException extends RuntimeException {

    public SpaceExhaustedException(String message) {
        super(message);
    }
}
