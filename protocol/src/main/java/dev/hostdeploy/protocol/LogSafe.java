package dev.hostdeploy.protocol;

/**
 * Makes text that came from a peer (a certificate subject, a close reason, a command name) safe to
 * log: control characters are escaped, so a peer cannot forge a log line with a newline or rewrite a
 * terminal with escape sequences, and the text is cut at {@link #MAX_CHARS} so it cannot flood the log.
 */
public final class LogSafe {
    /** Longest peer text logged; the rest is replaced by a count. */
    public static final int MAX_CHARS = 200;

    private LogSafe() {
    }

    /** {@code text} with {@code \n}, {@code \r}, {@code \t} and other control characters escaped; "null" for null. */
    public static String of(Object text) {
        if (text == null) {
            return "null";
        }
        String s = text.toString();
        int end = Math.min(s.length(), MAX_CHARS);
        StringBuilder out = new StringBuilder(end + 16);
        for (int i = 0; i < end; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\\' -> out.append("\\\\");
                default -> {
                    // C0, DEL, C1 and the Unicode line/paragraph separators all end or rewrite a line somewhere.
                    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        if (s.length() > end) {
            out.append("...(").append(s.length() - end).append(" more chars)");
        }
        return out.toString();
    }
}
