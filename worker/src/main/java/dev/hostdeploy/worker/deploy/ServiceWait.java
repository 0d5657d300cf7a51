package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.DeploySchema.LogLine;
import dev.hostdeploy.schema.deploy.DeploySchema.Service;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Whether a compose project's containers have settled (running and healthy, or exited 0 like a one-shot
 * migration), from the Docker API. Its own class because three commands wait the same way (sync,
 * rollback, start) and the unchanged-sync shortcut asks the same question without waiting.
 */
final class ServiceWait {
    private final Containers containers;
    private final Duration healthTimeout;

    ServiceWait(Containers containers, Duration healthTimeout) {
        this.containers = containers;
        this.healthTimeout = healthTimeout;
    }

    /**
     * Polls the Docker API until every container of the project runs and passes its healthcheck (or has
     * exited 0, like a one-shot migration). A crash or an unhealthy verdict fails at once with the
     * container's last log lines; otherwise it fails with {@code timeout} after --health-timeout.
     */
    List<Service> waitUp(String name, Redactor redactor, Deployer.Sink out) {
        long deadline = System.nanoTime() + healthTimeout.toNanos();
        String lastReport = null;
        while (true) {
            List<Service> live = containers.project(name);
            for (Service c : live) {
                boolean crashed = ("exited".equals(c.state()) || "dead".equals(c.state()))
                        && c.exitCode() != null && c.exitCode() != 0;
                if (crashed || "unhealthy".equals(c.health())) {
                    throw new ProtocolException(ErrorCode.INTERNAL, "service " + c.service() + " of " + name + " is "
                            + (crashed ? "exited with code " + c.exitCode() : "unhealthy") + "; last log lines:\n"
                            + logTail(c, redactor));
                }
            }
            if (!live.isEmpty() && live.stream().allMatch(ServiceWait::settled)) {
                out.line("health", "all " + live.size() + " containers up");
                return live;
            }
            String report = live.stream().map(c -> c.service() + ": " + c.state()
                    + (c.health() == null ? "" : " (" + c.health() + ")")).collect(Collectors.joining(", "));
            if (!report.equals(lastReport)) {
                out.line("health", report.isEmpty() ? "waiting for containers" : report);
                lastReport = report;
            }
            if (System.nanoTime() > deadline) {
                StringBuilder logs = new StringBuilder();
                for (Service c : live) {
                    if (!settled(c)) {
                        logs.append("\n[").append(c.service()).append("]\n").append(logTail(c, redactor));
                    }
                }
                throw new ProtocolException(ErrorCode.TIMEOUT, "services of " + name + " not up within "
                        + healthTimeout.toSeconds() + " s: " + report + "; last log lines:" + logs);
            }
            sleep(250);
        }
    }

    /** Every service of the last deploy has a container and every container is up. */
    static boolean allUp(State s, List<Service> live) {
        if (live.isEmpty() || !live.stream().allMatch(ServiceWait::settled)) {
            return false;
        }
        Set<String> present = live.stream().map(Service::service).collect(Collectors.toSet());
        return present.containsAll(s.services());
    }

    private static boolean settled(Service c) {
        return c.up() || "exited".equals(c.state()) && Integer.valueOf(0).equals(c.exitCode());
    }

    private String logTail(Service c, Redactor redactor) {
        return containers.logs(c.service(), c.containerId(), 20, null, redactor).stream()
                .map(LogLine::line).collect(Collectors.joining("\n"));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ProtocolException.unavailable("worker is shutting down");
        }
    }
}
