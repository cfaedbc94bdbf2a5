package org.pdpm.rdma.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Where a memory node listens: {@code host:port}. The local fabric uses the host {@code local}. */
public record NodeAddress(String host, int port) {

    public NodeAddress {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port=" + port + " is outside 0..65535");
        }
    }

    /** Parses {@code host:port} (IPv6 hosts in brackets: {@code [::1]:7000}). */
    public static NodeAddress parse(String text) {
        Objects.requireNonNull(text, "address");
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("address='" + text + "' is not HOST:PORT");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address='" + text + "' has a port that is not a number");
        }
        return new NodeAddress(host, port);
    }

    /** Parses a comma- or semicolon-separated list of addresses. */
    public static List<NodeAddress> parseList(String text) {
        List<NodeAddress> out = new ArrayList<>();
        for (String part : text.split("[,;]")) {
            if (!part.isBlank()) {
                out.add(parse(part));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("addresses='" + text + "' names no HOST:PORT");
        }
        return out;
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
