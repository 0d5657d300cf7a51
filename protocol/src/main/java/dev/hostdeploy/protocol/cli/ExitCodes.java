package dev.hostdeploy.protocol.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/** The one place that maps outcomes to process exit codes (sysexits.h values where one fits). */
public final class ExitCodes {
    public static final int OK = 0;
    /** A runtime failure not covered below. */
    public static final int FAILURE = 1;
    /** Bad options or bad values on the command line. */
    public static final int USAGE = 64;
    /** What was asked for does not exist (e.g. untrust of an unknown name). */
    public static final int NOT_FOUND = 65;
    /** A file could not be read or written. */
    public static final int IO_ERROR = 74;

    private ExitCodes() {
    }

    static int of(Throwable e) {
        if (e instanceof CommandLine.ParameterException || e instanceof IllegalArgumentException) {
            return USAGE;
        }
        if (e instanceof NotFoundException) {
            return NOT_FOUND;
        }
        if (e instanceof IOException || e instanceof UncheckedIOException) {
            return IO_ERROR;
        }
        return FAILURE;
    }

    /** Thrown by a subcommand when the thing it was asked about does not exist. */
    public static final class NotFoundException extends RuntimeException {
        public NotFoundException(String message) {
            super(message);
        }
    }
}
