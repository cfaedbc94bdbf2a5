package org.pdpm.flink.snapshot;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.apache.flink.core.fs.Path;

/**
 * A pinned point of a pool as a path: {@code pdpm://POOL/LINEAGE/EPOCH/OWNER}. Checkpoints name
 * their pins so; deleting the path releases the pin (see {@code PinFileSystem}).
 */
public record PinPath(String pool, int lineage, long epoch, String owner) {

    public static final String SCHEME = "pdpm";

    public Path toPath() {
        return new Path(SCHEME + "://" + pool + "/" + lineage + "/" + epoch + "/"
                + URLEncoder.encode(owner, StandardCharsets.UTF_8));
    }

    /** The pin {@code uri} names; an {@link IllegalArgumentException} saying why when it names none. */
    public static PinPath parse(URI uri) {
        if (!SCHEME.equals(uri.getScheme()) || uri.getAuthority() == null) {
            throw new IllegalArgumentException(uri + " is not a pdpm://POOL/LINEAGE/EPOCH/OWNER path");
        }
        String[] parts = uri.getRawPath().replaceFirst("^/", "").split("/");
        if (parts.length != 3) {
            throw new IllegalArgumentException(uri + " is not a pdpm://POOL/LINEAGE/EPOCH/OWNER path: it has "
                    + parts.length + " path parts");
        }
        try {
            return new PinPath(uri.getAuthority(), Integer.parseInt(parts[0]), Long.parseLong(parts[1]),
                    URLDecoder.decode(parts[2], StandardCharsets.UTF_8));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(uri + ": lineage and epoch must be numbers", e);
        }
    }
}
