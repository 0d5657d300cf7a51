package dev.hostdeploy.worker.deploy;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** Replaces secret values in text that leaves the Worker (progress, error messages, logs). */
final class Redactor {
    static final Redactor NONE = new Redactor(List.of());
    static final String MASK = "[redacted]";
    /** Shorter values would mask ordinary words and digits everywhere, and protect nothing. */
    static final int MIN_LENGTH = 3;

    private final List<String> secrets;

    Redactor(Collection<String> values) {
        // Longest first, so a secret that contains another is masked whole.
        this.secrets = values.stream()
                .filter(v -> v != null && v.length() >= MIN_LENGTH)
                .distinct()
                .sorted(Comparator.comparingInt(String::length).reversed())
                .toList();
    }

    String apply(String text) {
        if (text == null || secrets.isEmpty()) {
            return text;
        }
        String out = text;
        for (String s : secrets) {
            if (out.contains(s)) {
                out = out.replace(s, MASK);
            }
        }
        return out;
    }
}
