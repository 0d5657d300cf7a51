package dev.hostdeploy.protocol.cli;

import dev.hostdeploy.protocol.AgentServer;
import picocli.CommandLine;

/** Runs a picocli command tree with the project's error reporting and exit codes. */
public final class Cli {
    private Cli() {
    }

    public static int execute(Object root, String... args) {
        CommandLine cl = new CommandLine(root);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return ExitCodes.of(e);
        });
        cl.setParameterExceptionHandler((e, a) -> {
            CommandLine line = e.getCommandLine();
            line.getErr().println("error: " + e.getMessage());
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, line.getErr())) {
                line.getErr().println("see '" + line.getCommandSpec().qualifiedName() + " --help'");
            }
            return ExitCodes.USAGE;
        });
        return cl.execute(args);
    }

    /**
     * Starts the server and blocks until the JVM is told to stop; SIGTERM closes the server, then
     * {@code alsoClose} in order ({@link Shutdown}).
     */
    public static void serve(AgentServer server, AutoCloseable... alsoClose) throws InterruptedException {
        AutoCloseable[] inOrder = new AutoCloseable[alsoClose.length + 1];
        inOrder[0] = server;
        System.arraycopy(alsoClose, 0, inOrder, 1, alsoClose.length);
        Shutdown shutdown = Shutdown.closing(inOrder);
        server.start();
        shutdown.await();
    }

    /** Reads the version from the shaded jar's manifest. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {version()};
        }
    }

    public static String version() {
        String v = Cli.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
