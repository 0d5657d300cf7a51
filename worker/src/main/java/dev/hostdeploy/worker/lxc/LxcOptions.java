package dev.hostlxc.worker.lxc;

/** Worker options for LXC member containers (a picocli mixin of the run command). */
public final class LxcOptions {
}
