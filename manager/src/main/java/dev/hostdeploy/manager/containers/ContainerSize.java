package dev.hostdeploy.manager.containers;

import dev.hostdeploy.schema.lxc.LxcRules;
import dev.hostdeploy.schema.lxc.LxcSchema.Limits;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A container size members choose by name: CPUs, memory and disk, as {@code --size small=1cpu,512MiB,8GiB} gives it. */
public record ContainerSize(String name, int cpus, String memory, String disk) {
    private static final Pattern SPEC = Pattern.compile("([a-z][a-z0-9-]{0,30})=(\\d{1,3})cpu,([0-9A-Za-z]+),([0-9A-Za-z]+)");

    public ContainerSize {
        // The Worker's own rules, so a size the Manager offers is always one lxc.create accepts.
        new Limits(cpus, memory, disk);
    }

    public static final Map<String, ContainerSize> DEFAULTS = defaults();

    private static Map<String, ContainerSize> defaults() {
        Map<String, ContainerSize> m = new LinkedHashMap<>();
        for (String s : new String[] {"small=1cpu,512MiB,8GiB", "medium=2cpu,2GiB,20GiB", "large=4cpu,8GiB,50GiB"}) {
            ContainerSize size = parse(s);
            m.put(size.name(), size);
        }
        return Map.copyOf(m);
    }

    /** {@code NAME=Ncpu,MEM,DISK}; IllegalArgumentException naming the option otherwise. */
    public static ContainerSize parse(String spec) {
        Matcher m = SPEC.matcher(spec == null ? "" : spec.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("--size " + spec + ": must be NAME=Ncpu,MEMORY,DISK (e.g. small=1cpu,512MiB,8GiB)");
        }
        try {
            return new ContainerSize(m.group(1), Integer.parseInt(m.group(2)), m.group(3), m.group(4));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--size " + spec + ": " + e.getMessage());
        }
    }

    public Limits limits() {
        return new Limits(cpus, memory, disk);
    }

    public long memoryBytes() {
        return LxcRules.sizeBytes(memory);
    }

    public long diskBytes() {
        return LxcRules.sizeBytes(disk);
    }
}
