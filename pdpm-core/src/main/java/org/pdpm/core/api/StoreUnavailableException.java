package org.pdpm.core.api;

/**
 * The store cannot carry out this operation now — a server it needs is down, or too few memory
 * nodes answer — and nothing was changed by it. The message says what is missing; retrying later
 * may succeed.
 */
public class StoreUnavailableException extends RuntimeException {

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreUnavailableException(String message) {
        super(message);
    }
}
