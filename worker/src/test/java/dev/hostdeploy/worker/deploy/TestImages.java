package dev.hostdeploy.worker.deploy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The one base image tests use, built locally (no registry is reachable): a busybox-static root file
 * system imported with {@code docker import}.
 */
public final class TestImages {
    public static final String BUSYBOX = "hostdeploy-test/busybox:1";

    private TestImages() {
    }

    public static synchronized void ensureBusybox() throws Exception {
        if (run(List.of("docker", "image", "inspect", BUSYBOX), null) == 0) {
            return;
        }
        Path root = Files.createTempDirectory("busybox-rootfs");
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        Process list = new ProcessBuilder("/bin/busybox", "--list").start();
        for (String applet : new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
            if (!applet.isBlank() && !applet.equals("busybox")) {
                Files.createSymbolicLink(bin.resolve(applet.trim()), Path.of("busybox"));
            }
        }
        Files.createDirectories(root.resolve("www"));
        Files.createDirectories(root.resolve("tmp"));
        Files.createDirectories(root.resolve("data"));
        Process tar = new ProcessBuilder("tar", "-C", root.toString(), "-c", ".").start();
        Process imp = new ProcessBuilder("docker", "import", "-", BUSYBOX).redirectErrorStream(true).start();
        try (var in = tar.getInputStream(); var out = imp.getOutputStream()) {
            in.transferTo(out);
        }
        if (!imp.waitFor(60, TimeUnit.SECONDS) || imp.exitValue() != 0) {
            throw new IllegalStateException("docker import failed: " + new String(imp.getInputStream().readAllBytes()));
        }
        Store.deleteTree(root);
    }

    static int run(List<String> cmd, StringBuilder out) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (out != null) {
            out.append(text);
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
