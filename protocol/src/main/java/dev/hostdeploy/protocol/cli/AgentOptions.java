package dev.hostdeploy.protocol.cli;

import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustList;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every agent's {@code run} command shares. */
public final class AgentOptions {
    @Option(names = "--dir", required = true, paramLabel = "DIR",
            description = "Identity and trust directory (made by init; created on first run if missing)")
    Path dir;

    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT",
            description = "Address to serve the protocol on, e.g. 0.0.0.0:7443 or [::1]:7443")
    String listen;

    public Path dir() {
        return dir;
    }

    public Identity identity(String kind) throws IOException {
        return Identity.loadOrCreate(dir, "hostdeploy-" + kind);
    }

    public TrustList trustList() throws IOException {
        return TrustList.load(dir);
    }

    public InetSocketAddress listenAddress() {
        return parseHostPort(listen);
    }

    /** Parses HOST:PORT or [V6]:PORT; refuses anything else with a message naming the option. */
    public static InetSocketAddress parseHostPort(String value) {
        if (value == null) {
            throw new IllegalArgumentException("--listen needs HOST:PORT");
        }
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException("--listen '" + value + "': expected HOST:PORT");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("--listen '" + value + "': write IPv6 addresses as [ADDR]:PORT");
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen '" + value + "': port must be a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--listen '" + value + "': port must be 0-65535");
        }
        return new InetSocketAddress(host, port);
    }
}
