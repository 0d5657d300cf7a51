package dev.hostdeploy.guardian.nft;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A long-lived {@code nft -j -i} fed one JSON batch per line on stdin. Each line is its own nft
 * transaction. Interactive nft says nothing on success and reports errors on stderr, so every batch
 * is followed by a sync line that nft cannot parse: its error echoes the line back on stderr, and
 * whatever stderr said before that echo belongs to the batch. The process is started on first use,
 * restarted when it died, and replaced every {@link #MAX_COMMANDS} batches because nft's line editor
 * keeps every line in its history.
 */
final class NftSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NftSession.class);
    static final int MAX_COMMANDS = 10_000;
    private static final String SYNC = "hostdeploy-sync-";
    /** The caret line under the sync echo, and nft's own header line for the sync error. */
    private static final Pattern MARKER = Pattern.compile("\\s*[\\^~]+\\s*");
    private static final String SYNC_ERROR = "Error: syntax error";
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nft-session-watchdog");
        t.setDaemon(true);
        return t;
    });

    private final List<String> command;
    private final long timeoutSeconds;
    private volatile Process process;
    private OutputStream stdin;
    private BufferedReader stderr;
    /** When the batch in flight must have been answered (System.nanoTime), or 0 when none is. */
    private volatile long deadline;
    private volatile boolean timedOut;
    private ScheduledFuture<?> watchdog;
    private long seq;
    private int commands;

    NftSession(List<String> nftCommand, long timeoutSeconds) {
        List<String> c = new ArrayList<>(nftCommand);
        c.add("-j");
        c.add("-i");
        this.command = List.copyOf(c);
        this.timeoutSeconds = timeoutSeconds;
    }

    /**
     * Runs one batch (one line of nft JSON). Returns null when nft accepted it, or nft's error text
     * when nft refused it (then nothing of it was applied). Throws IOException when nft died or did not
     * answer in time; the process is then discarded and the next call starts a new one.
     */
    synchronized String run(byte[] jsonLine) throws IOException {
        if (process == null || !process.isAlive() || commands >= MAX_COMMANDS) {
            restart();
        }
        long n = ++seq;
        commands++;
        String sync = SYNC + n;
        List<String> lines = new ArrayList<>();
        // stderr is read right here rather than by a reader thread: one thread hand-off less per batch.
        // The watchdog kills a process that does not answer in time, which ends the read below.
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        try {
            stdin.write(jsonLine);
            stdin.write('\n');
            stdin.write((sync + "\n").getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
            String line;
            while ((line = stderr.readLine()) != null && !line.equals(sync)) {
                if (!line.isBlank() && !MARKER.matcher(line).matches()) {
                    lines.add(line);
                }
            }
            if (line == null) {
                throw new IOException(timedOut ? "nft -i did not answer within " + timeoutSeconds + " s"
                        : "nft -i exited" + (lines.isEmpty() ? "" : ": " + String.join(" | ", lines)));
            }
        } catch (IOException e) {
            kill();
            throw e.getMessage() != null && e.getMessage().startsWith("nft -i") ? e
                    : new IOException("nft -i failed: " + e.getMessage(), e);
        } finally {
            deadline = 0;
        }
        if (!lines.isEmpty() && lines.get(lines.size() - 1).startsWith(SYNC_ERROR)) {
            lines.remove(lines.size() - 1); // nft's complaint about the sync line itself
        }
        if (lines.isEmpty()) {
            return null;
        }
        String err = String.join("\n", lines);
        if (!err.contains("Error")) {
            LOG.warn("nft said: {}", err); // a warning, not a refusal
            return null;
        }
        return err;
    }

    /** Runs every second: kills the process when a batch has waited longer than the timeout. */
    private void watch() {
        long d = deadline;
        Process p = process;
        if (d != 0 && p != null && System.nanoTime() - d > 0) {
            timedOut = true;
            p.destroyForcibly();
        }
    }

    /** Starts the process ahead of the first batch, so that batch does not wait for nft to start. */
    synchronized void warmUp() throws IOException {
        if (process == null || !process.isAlive()) {
            restart();
        }
    }

    synchronized OptionalLong pid() {
        return process != null && process.isAlive() ? OptionalLong.of(process.pid()) : OptionalLong.empty();
    }

    private void restart() throws IOException {
        discard();
        ProcessBuilder pb = new ProcessBuilder(command);
        // nft's line editor reads and writes $HOME/.nft.history; keep our batches out of root's home.
        pb.environment().put("HOME", "/nonexistent");
        Process p = pb.start();
        daemon("nft-session-stdout", () -> {
            try (InputStream out = p.getInputStream()) {
                out.transferTo(OutputStream.nullOutputStream()); // our batches print nothing; never let the pipe fill
            } catch (IOException e) {
                // gone
            }
        });
        process = p;
        stdin = p.getOutputStream();
        stderr = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        commands = 0;
        timedOut = false;
        if (watchdog == null) {
            watchdog = WATCHDOG.scheduleWithFixedDelay(this::watch, 1, 1, TimeUnit.SECONDS);
        }
    }

    private static void daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private void kill() {
        if (process != null) {
            process.destroyForcibly();
        }
        discard();
    }

    /** Ends the process: closing its input makes nft -i exit by itself. */
    private void discard() {
        if (process != null) {
            Optional.ofNullable(stdin).ifPresent(s -> {
                try {
                    s.close(); // nft -i exits at end of input
                } catch (IOException e) {
                    // already gone
                }
            });
            try {
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            try {
                stderr.close();
            } catch (IOException e) {
                // already gone
            }
            process = null;
            stdin = null;
            stderr = null;
        }
    }

    @Override
    public synchronized void close() {
        if (watchdog != null) {
            watchdog.cancel(false);
            watchdog = null;
        }
        discard();
    }
}
