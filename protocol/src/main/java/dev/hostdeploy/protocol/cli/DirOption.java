package dev.hostdeploy.protocol.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --dir DIR}: the component's identity and trust directory. */
public final class DirOption {
    @Option(names = "--dir", required = true, paramLabel = "DIR",
            description = "Directory holding key.pem, cert.pem and trusted.json")
    Path dir;

    public Path dir() {
        return dir;
    }
}
