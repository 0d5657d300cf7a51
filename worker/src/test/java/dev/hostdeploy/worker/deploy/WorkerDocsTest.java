package dev.hostdeploy.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.worker.lxc.LxcModule;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps docs/ true: every command the Worker serves is documented in a Worker page (docs/worker-*.md). */
class WorkerDocsTest {
    private static final Pattern CODE = Pattern.compile("`([^`\\s]+)`");

    @TempDir
    Path dir;

    @Test
    void everyWorkerCommandIsDocumented() throws Exception {
        // Registered as WorkerRunCommand does; neither module contacts Docker or LXD before a command runs.
        HandlerRegistry registry = new HandlerRegistry();
        try (DeployModule deploy = DeployModule.create(new DeployOptions().deployRoot(dir.resolve("deploy")));
             LxcModule lxc = LxcModule.create(new LxcOptions(List.of(), dir.resolve("backups"), 7, null))) {
            deploy.register(registry);
            lxc.register(registry);
            dev.hostdeploy.worker.HostSummaryCommand.register(registry, deploy, lxc);
        }
        Set<String> documented = documentedNames(docsDir());

        assertThat(registry.commands()).isNotEmpty().contains("deploy.sync", "repo.head", "host.stats", "host.summary", "lxc.create");
        assertThat(registry.commands()).allSatisfy(command -> assertThat(documented)
                .as("`%s` in docs/worker-*.md", command).contains(command));
    }

    /**
     * Every {@code `code`} span of the docs, where a span starting with '.' completes the last full
     * name on its line, as the docs write {@code `lxc.snapshot.create` / `.restore`}.
     */
    private static Set<String> documentedNames(Path docs) throws IOException {
        Set<String> names = new HashSet<>();
        try (Stream<Path> files = Files.list(docs)) {
            for (Path f : files.filter(p -> p.getFileName().toString().matches("worker-.*\\.md")).toList()) {
                for (String line : Files.readAllLines(f)) {
                    String last = null;
                    Matcher m = CODE.matcher(line);
                    while (m.find()) {
                        String code = m.group(1);
                        if (code.startsWith(".") && last != null) {
                            names.add(last.substring(0, last.lastIndexOf('.')) + code);
                        } else if (code.indexOf('.') > 0) {
                            names.add(code);
                            last = code;
                        }
                    }
                }
            }
        }
        return names;
    }

    private static Path docsDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("docs")) && Files.exists(p.resolve("pom.xml"))) {
                return p.resolve("docs");
            }
        }
        throw new AssertionError("no docs/ above " + Path.of("").toAbsolutePath());
    }
}
