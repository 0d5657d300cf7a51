package dev.hostdeploy.worker.lxc;

import static dev.hostdeploy.protocol.Validation.require;
import static dev.hostdeploy.protocol.Validation.required;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The wire records of the lxc.* commands: every check happens here, before LXD is asked anything. */
final class LxcRequests {
    static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,62}");
    static final Pattern SNAPSHOT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    static final Pattern OWNER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,127}");
    static final Pattern IMAGE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,127}");
    /** Backup ids are the UTC time they were taken: 20261122T101500123Z. */
    static final Pattern BACKUP = Pattern.compile("\\d{8}T\\d{9}Z");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,7})(B|kB|MB|GB|TB|KiB|MiB|GiB|TiB)");
    private static final Pattern CRON_FIELD = Pattern.compile("[0-9*/,-]{1,40}");
    private static final Pattern EXPIRY = Pattern.compile("\\d{1,5}[MHdwmy]( \\d{1,5}[MHdwmy]){0,5}");
    private static final List<String> CRON_ALIASES = List.of("@hourly", "@daily", "@midnight", "@weekly",
            "@monthly", "@annually", "@yearly", "@startup");

    static final int MAX_CPU = 64;
    static final long MIN_MEMORY = 32L << 20;
    static final long MAX_MEMORY = 1L << 40;
    static final long MIN_DISK = 256L << 20;
    static final long MAX_DISK = 16L << 40;

    private LxcRequests() {
    }

    static void checkName(String name, String field) {
        required(name, field);
        require(NAME.matcher(name).matches(), field, "must match [a-z][a-z0-9-]{0,62}");
        require(!name.endsWith("-"), field, "must not end with '-'");
    }

    /** Bytes of an LXD size like "512MiB"; null when it is not one. */
    static Long sizeBytes(String s) {
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

    private static void size(String value, String field, long min, long max) {
        Long bytes = sizeBytes(value);
        require(bytes != null, field, "must be an LXD size such as \"512MiB\" or \"4GiB\"");
        require(bytes >= min && bytes <= max, field, "must be between " + human(min) + " and " + human(max));
    }

    private static String human(long bytes) {
        return bytes >= (1L << 40) ? (bytes >> 40) + "TiB" : bytes >= (1L << 30) ? (bytes >> 30) + "GiB" : (bytes >> 20) + "MiB";
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Limits(Integer cpu, String memory, String disk) {
        Limits {
            if (cpu != null) {
                require(cpu >= 1 && cpu <= MAX_CPU, "limits.cpu", "must be a CPU count from 1 to " + MAX_CPU);
            }
            if (memory != null) {
                size(memory, "limits.memory", MIN_MEMORY, MAX_MEMORY);
            }
            if (disk != null) {
                size(disk, "limits.disk", MIN_DISK, MAX_DISK);
            }
        }

        boolean isEmpty() {
            return cpu == null && memory == null && disk == null;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record CreateRequest(String name, String image, String owner, List<String> sshKeys, Limits limits) {
        CreateRequest {
            checkName(name, "name");
            required(image, "image");
            require(IMAGE.matcher(image).matches(), "image", "is not a valid image alias");
            required(owner, "owner");
            require(OWNER.matcher(owner).matches(), "owner", "must match [A-Za-z0-9][A-Za-z0-9._@-]{0,127}");
            sshKeys = sshKeys == null ? List.of() : List.copyOf(sshKeys);
            require(sshKeys.size() <= SshKeys.MAX_KEYS, "sshKeys", "at most " + SshKeys.MAX_KEYS + " keys");
            limits = limits == null ? new Limits(null, null, null) : limits;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record NameRequest(String name) {
        NameRequest {
            checkName(name, "name");
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record ForceRequest(String name, Boolean force) {
        ForceRequest {
            checkName(name, "name");
            force = force != null && force;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record ListRequest(String owner) {
        ListRequest {
            if (owner != null) {
                require(OWNER.matcher(owner).matches(), "owner", "must match [A-Za-z0-9][A-Za-z0-9._@-]{0,127}");
            }
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record KeysRequest(String name, List<String> sshKeys) {
        KeysRequest {
            checkName(name, "name");
            required(sshKeys, "sshKeys");
            sshKeys = List.copyOf(sshKeys);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record LimitsRequest(String name, Limits limits) {
        LimitsRequest {
            checkName(name, "name");
            required(limits, "limits");
            require(!limits.isEmpty(), "limits", "set at least one of cpu, memory, disk");
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record ExposeRequest(String name, Integer hostPort, String address) {
        ExposeRequest {
            checkName(name, "name");
            required(hostPort, "hostPort");
            require(hostPort >= 1024 && hostPort <= 65535, "hostPort", "must be from 1024 to 65535");
            address = address == null ? "0.0.0.0" : address;
            require(isIpLiteral(address), "address", "must be an IPv4 or IPv6 address literal");
        }
    }

    static boolean isIpLiteral(String s) {
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
            java.net.InetAddress.getByName(s);
            return true;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record SnapshotRequest(String name, String snapshot) {
        SnapshotRequest {
            checkName(name, "name");
            required(snapshot, "snapshot");
            require(SNAPSHOT.matcher(snapshot).matches(), "snapshot", "must match [A-Za-z0-9][A-Za-z0-9._-]{0,62}");
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record ScheduleRequest(String name, String schedule, String expiry) {
        ScheduleRequest {
            checkName(name, "name");
            schedule = schedule == null ? "" : schedule.strip();
            expiry = expiry == null ? "" : expiry.strip();
            require(schedule.isEmpty() || isCron(schedule), "schedule",
                    "must be a 5-field cron expression or one of " + CRON_ALIASES + " (empty turns it off)");
            require(expiry.isEmpty() || EXPIRY.matcher(expiry).matches(), "expiry",
                    "must look like \"2w\" or \"1d 12H\" (units M H d w m y; empty keeps snapshots)");
        }
    }

    /** A backup id as lxc.backup.list prints it: also what keeps a restore inside the backup root. */
    static void checkBackup(String backup) {
        required(backup, "backup");
        require(BACKUP.matcher(backup).matches(), "backup", "must be a backup id as listed by lxc.backup.list");
    }

    static boolean isCron(String s) {
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

    @JsonIgnoreProperties(ignoreUnknown = true)
    record BackupRef(String name, String backup) {
        BackupRef {
            checkName(name, "name");
            checkBackup(backup);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record BackupRestoreRequest(String name, String backup, String asName) {
        BackupRestoreRequest {
            checkName(name, "name");
            checkBackup(backup);
            asName = asName == null ? name : asName;
            checkName(asName, "asName");
        }
    }
}
