package dev.hostdeploy.worker.deploy;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerPort;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.Info;
import com.github.dockerjava.api.model.Network;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.hostdeploy.schema.deploy.DeploySchema.LogLine;
import dev.hostdeploy.schema.deploy.DeploySchema.Port;
import dev.hostdeploy.schema.deploy.DeploySchema.Service;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Container facts from the Docker API, found by compose's project and service labels. */
final class Containers implements AutoCloseable {
    static final String PROJECT = "com.docker.compose.project";
    static final String SERVICE = "com.docker.compose.service";
    static final String ONEOFF = "com.docker.compose.oneoff";

    private final DockerClient docker;

    Containers(String dockerHost) {
        var config = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(dockerHost).build();
        var http = new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .maxConnections(32)
                .connectionTimeout(Duration.ofSeconds(10))
                .responseTimeout(Duration.ofMinutes(2))
                .build();
        this.docker = DockerClientImpl.getInstance(config, http);
    }

    /** The containers of a compose project (one-off {@code run} containers left out), sorted by service. */
    List<Service> project(String project) {
        List<Container> list = docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(PROJECT, project)).exec();
        List<Service> services = new ArrayList<>();
        for (Container c : list) {
            Map<String, String> labels = c.getLabels() == null ? Map.of() : c.getLabels();
            if ("True".equalsIgnoreCase(labels.get(ONEOFF))) {
                continue;
            }
            Service s = describe(c, labels);
            if (s != null) {
                services.add(s);
            }
        }
        services.sort(Comparator.comparing(Service::service).thenComparing(Service::containerName));
        return services;
    }

    private Service describe(Container c, Map<String, String> labels) {
        InspectContainerResponse in;
        try {
            in = docker.inspectContainerCmd(c.getId()).exec();
        } catch (NotFoundException e) {
            return null; // removed between list and inspect
        }
        var state = in.getState();
        String health = state.getHealth() == null ? null : state.getHealth().getStatus();
        List<Port> ports = new ArrayList<>();
        if (c.getPorts() != null) {
            for (ContainerPort p : c.getPorts()) {
                ports.add(new Port(p.getIp(), p.getPublicPort(), p.getPrivatePort(), p.getType()));
            }
        }
        ports.sort(Comparator.comparing((Port p) -> p.containerPort() == null ? 0 : p.containerPort())
                .thenComparing(p -> p.hostIp() == null ? "" : p.hostIp()));
        String name = c.getNames() != null && c.getNames().length > 0 ? c.getNames()[0].replaceFirst("^/", "") : c.getId();
        Long exit = state.getExitCodeLong();
        return new Service(labels.getOrDefault(SERVICE, "?"), c.getId(), name, state.getStatus(), health,
                state.getStartedAt(), "running".equals(state.getStatus()) || exit == null ? null : exit.intValue(),
                List.copyOf(ports));
    }

    private static final java.util.regex.Pattern TIMESTAMP =
            java.util.regex.Pattern.compile("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+(Z|[+-]\\d\\d:\\d\\d)");

    /** The last {@code tail} lines a container wrote, oldest first, optionally only since an instant. */
    List<LogLine> logs(String service, String containerId, int tail, Instant since, Redactor redactor) {
        List<LogLine> lines = new ArrayList<>();
        var cmd = docker.logContainerCmd(containerId).withStdOut(true).withStdErr(true).withTail(tail)
                .withTimestamps(true);
        if (since != null) {
            // The API takes int seconds: clamp instead of letting a far-future instant wrap into the past.
            cmd.withSince((int) Math.min(Integer.MAX_VALUE, Math.max(0, since.getEpochSecond())));
        }
        try (var cb = cmd.exec(new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame frame) {
                String text = new String(frame.getPayload(), StandardCharsets.UTF_8);
                for (String line : text.split("\r?\n")) {
                    // Docker prefixes each line with its RFC 3339 timestamp and one space.
                    int space = line.indexOf(' ');
                    String time = space > 0 && TIMESTAMP.matcher(line.substring(0, space)).matches()
                            ? line.substring(0, space) : null;
                    String body = time == null ? line : line.substring(space + 1);
                    if (!body.isEmpty()) {
                        lines.add(new LogLine(service, containerId, frame.getStreamType().name().toLowerCase(),
                                redactor.apply(body), time));
                    }
                }
            }
        })) {
            cb.awaitCompletion(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (NotFoundException e) {
            return List.of();
        }
        return lines.size() > tail ? lines.subList(lines.size() - tail, lines.size()) : lines;
    }

    /**
     * Removes what compose would remove with {@code down}, by label: the fallback when the compose file
     * cannot be read any more. Returns the names of the project's volumes it kept or removed.
     */
    List<String> removeProject(String project, boolean volumes) {
        for (Container c : docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(PROJECT, project)).exec()) {
            try {
                docker.removeContainerCmd(c.getId()).withForce(true).exec();
            } catch (NotFoundException ignored) {
                // already gone
            }
        }
        for (Network n : docker.listNetworksCmd().withFilter("label", List.of(PROJECT + "=" + project)).exec()) {
            try {
                docker.removeNetworkCmd(n.getId()).exec();
            } catch (NotFoundException ignored) {
                // already gone
            }
        }
        List<String> names = volumes(project);
        if (volumes) {
            for (String v : names) {
                try {
                    docker.removeVolumeCmd(v).exec();
                } catch (NotFoundException ignored) {
                    // already gone
                }
            }
        }
        return names;
    }

    /** The named volumes compose created for a project. */
    List<String> volumes(String project) {
        var resp = docker.listVolumesCmd().withFilter("label", List.of(PROJECT + "=" + project)).exec();
        if (resp.getVolumes() == null) {
            return List.of();
        }
        return resp.getVolumes().stream().map(v -> v.getName()).sorted().toList();
    }

    Info info() {
        return docker.infoCmd().exec();
    }

    @Override
    public void close() {
        try {
            docker.close();
        } catch (IOException ignored) {
            // closing a unix-socket client cannot fail in a way the caller could act on
        }
    }
}
