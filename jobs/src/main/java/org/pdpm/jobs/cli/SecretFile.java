package org.pdpm.jobs.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The shared-secret file of DESIGN §5: one line of text whose trimmed content is the secret. */
final class SecretFile {

    private SecretFile() {}

    /** The secret; {@link IllegalArgumentException} when the file is missing, unreadable or empty. */
    static String read(Path file) {
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("secret file " + file + " cannot be read: " + describe(e));
        }
        String secret = content.trim();
        if (secret.isEmpty()) {
            throw new IllegalArgumentException("secret file " + file + " is empty");
        }
        if (secret.indexOf('\n') >= 0 || secret.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("secret file " + file + " holds more than one line");
        }
        return secret;
    }

    /** The file system exceptions carry only the path as their message; say what went wrong. */
    private static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage();
    }
}
