package dev.hostdeploy.schema.lxc;

import static dev.hostdeploy.protocol.Validation.require;
import static dev.hostdeploy.protocol.Validation.required;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The checks of the lxc.* records, public so the Manager can check a member's input before it sends it.
 * Each failure is {@code invalid_data} naming the field.
 */
public final class LxcRules {
    public static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,62}");
    public static final Pattern SNAPSHOT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    public static final Pattern IMAGE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,127}");
    /** Backup ids are the UTC time they were taken: 20261122T101500123Z. */
    public static final Pattern BACKUP = Pattern.compile("\\d{8}T\\d{9}Z");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,7})(B|kB|MB|GB|TB|KiB|MiB|GiB|TiB)");
    private static final Pattern CRON_FIELD = Pattern.compile("[0-9*/,-]{1,40}");
    private static final Pattern EXPIRY = Pattern.compile("\\d{1,5}[MHdwmy]( \\d{1,5}[MHdwmy]){0,5}");
    private static final List<String> CRON_ALIASES = List.of("@hourly", "@daily", "@midnight", "@weekly",
            "@monthly", "@annually", "@yearly", "@startup");

    public static final int MAX_CPU = 64;
    public static final long MIN_MEMORY = 32L << 20;
    public static final long MAX_MEMORY = 1L << 40;
    public static final long MIN_DISK = 256L << 20;
    public static final long MAX_DISK = 16L << 40;

    private LxcRules() {
    }

    /** A container name: a short lowercase hostname (it becomes one, and a directory of backups). */
    public static void name(String name, String field) {
        required(name, field);
        require(NAME.matcher(name).matches(), field, "must match [a-z][a-z0-9-]{0,62}");
        require(!name.endsWith("-"), field, "must not end with '-'");
    }

    public static void image(String image, String field) {
        required(image, field);
        require(IMAGE.matcher(image).matches(), field, "is not a valid image alias");
    }

    public static void snapshot(String snapshot, String field) {
        required(snapshot, field);
        require(SNAPSHOT.matcher(snapshot).matches(), field, "must match [A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    }

    /** A backup id as lxc.backup.list prints it: also what keeps a restore inside the backup root. */
    public static void backup(String backup, String field) {
        required(backup, field);
        require(BACKUP.matcher(backup).matches(), field, "must be a backup id as listed by lxc.backup.list");
    }

    /** Bytes of an LXD size like "512MiB"; null when it is not one. */
    public static Long sizeBytes(String s) {
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            return null;
        }
        long n = Long.parseLong(m.group(1));
        long unit = switch (m.group(2)) {
            case "B" -> 1L;
            case "kB" -> 1_000L;
            case "MB" -> 1_000_000L;
            case "GB" -> 1_000_000_000L;
            case "TB" -> 1_000_000_000_000L;
            case "KiB" -> 1L << 10;
            case "MiB" -> 1L << 20;
            case "GiB" -> 1L << 30;
            default -> 1L << 40;
        };
        return n * unit;
    }

    static void size(String value, String field, long min, long max) {
        Long bytes = sizeBytes(value);
        require(bytes != null, field, "must be an LXD size such as \"512MiB\" or \"4GiB\"");
        require(bytes >= min && bytes <= max, field, "must be between " + human(min) + " and " + human(max));
    }

    private static String human(long bytes) {
        return bytes >= (1L << 40) ? (bytes >> 40) + "TiB" : bytes >= (1L << 30) ? (bytes >> 30) + "GiB" : (bytes >> 20) + "MiB";
    }

    /** An IPv4 or IPv6 literal; never a name (nothing is looked up). */
    public static boolean isIpLiteral(String s) {
        if (s.matches("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})")) {
            for (String part : s.split("\\.")) {
                if (Integer.parseInt(part) > 255) {
                    return false;
                }
            }
            return true;
        }
        if (s.length() > 45 || !s.contains(":") || !s.matches("[0-9a-fA-F:.]+")) {
            return false;
        }
        try {
            // With a ':' in it this only parses an IPv6 literal; it never looks a name up.
            InetAddress.getByName(s);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** A 5-field cron expression or one of LXD's aliases ({@code @daily}, ...). */
    public static boolean isCron(String s) {
        if (CRON_ALIASES.contains(s.toLowerCase(Locale.ROOT))) {
            return true;
        }
        String[] fields = s.split(" +");
        if (fields.length != 5) {
            return false;
        }
        for (String f : fields) {
            if (!CRON_FIELD.matcher(f).matches()) {
                return false;
            }
        }
        return true;
    }

    static void schedule(String schedule, String field) {
        require(schedule.isEmpty() || isCron(schedule), field,
                "must be a 5-field cron expression or one of " + CRON_ALIASES + " (empty turns it off)");
    }

    static void expiry(String expiry, String field) {
        require(expiry.isEmpty() || EXPIRY.matcher(expiry).matches(), field,
                "must look like \"2w\" or \"1d 12H\" (units M H d w m y; empty keeps snapshots)");
    }
}
