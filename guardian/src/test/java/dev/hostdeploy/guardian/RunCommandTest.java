package dev.hostdeploy.guardian;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RunCommandTest {
    @Test
    void runWithoutStateUsesTheUnitsStateDirectory() {
        CommandLine cl = new CommandLine(new GuardianMain());
        CommandLine.ParseResult parsed = cl.parseArgs("run", "--dir", "/etc/hostdeploy/guardian", "--listen", "0.0.0.0:7444");
        RunCommand run = (RunCommand) parsed.subcommand().commandSpec().userObject();
        assertThat(run.state).isEqualTo(Path.of("/var/lib/hostdeploy/guardian"));
    }

    @Test
    void stateGivenOnTheCommandLineWins() {
        CommandLine.ParseResult parsed = new CommandLine(new GuardianMain())
                .parseArgs("run", "--dir", "d", "--listen", "127.0.0.1:0", "--state", "/tmp/elsewhere");
        assertThat(((RunCommand) parsed.subcommand().commandSpec().userObject()).state).isEqualTo(Path.of("/tmp/elsewhere"));
    }
}
