package dev.hostdeploy.protocol.cli;

import java.net.InetSocketAddress;
import picocli.CommandLine;

/**
 * {@code HOST:PORT} or {@code [V6]:PORT} to an address, for every program's address options
 * ({@code converter = HostPortConverter.class}); picocli reports a bad value with the option's name.
 */
public final class HostPortConverter implements CommandLine.ITypeConverter<InetSocketAddress> {
    @Override
    public InetSocketAddress convert(String value) {
        return parse(value);
    }

    /** Parses HOST:PORT or [V6]:PORT (port 0-65535); anything else is refused saying what was expected. */
    public static InetSocketAddress parse(String value) {
        if (value == null || value.isBlank()) {
            throw bad(value, "expected HOST:PORT");
        }
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw bad(value, "expected HOST:PORT");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw bad(value, "write IPv6 addresses as [ADDR]:PORT");
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw bad(value, "port must be a number");
        }
        if (port < 0 || port > 65535) {
            throw bad(value, "port must be 0-65535");
        }
        return new InetSocketAddress(host, port);
    }

    private static CommandLine.TypeConversionException bad(String value, String why) {
        return new CommandLine.TypeConversionException("'" + value + "': " + why);
    }
}
