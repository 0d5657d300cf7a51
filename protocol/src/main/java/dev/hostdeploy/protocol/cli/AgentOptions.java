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

    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", converter = HostPortConverter.class,
            description = "Address to serve the protocol on, e.g. 0.0.0.0:7443 or [::1]:7443")
    InetSocketAddress listen;

    @Option(names = "--log-dir", paramLabel = "DIR",
            description = "Also log to a rotated file DIR/<program>.log (daily and at 10 MB, 14 days kept); "
                    + "stdout gets every line either way")
    Path logDir;

    /** Starts the {@code --log-dir} file, if one was asked for; call first, so every line lands there. */
    public void startLogging(String program) throws IOException {
        if (logDir != null) {
            LogFiles.start(logDir, program);
        }
    }

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
        return listen;
    }
}
