package dev.hostdeploy.worker.deploy;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** The result data of the deploy.*, repo.* and host.* commands. */
final class Replies {
    private Replies() {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Port(String hostIp, Integer hostPort, Integer containerPort, String protocol) {
    }

    /** One container of a compose service, as the Docker API reports it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Service(String service, String containerId, String containerName, String state, String health,
                   String startedAt, Integer exitCode, List<Port> ports) {
        /** Running, and healthy or without a healthcheck. */
        boolean up() {
            return "running".equals(state) && (health == null || "healthy".equals(health));
        }
    }

    /** The reply of deploy.sync, deploy.rollback and deploy.start. {@code changed}: compose ran. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Deploy(String name, String repo, String ref, String commit, String composePath, boolean changed,
                  List<Service> services) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Status(String name, String repo, String ref, String commit, String composePath, String status,
                  String lastError, String updatedAt, List<State.Deployed> history, List<Service> services) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record DeploymentList(List<Status> deployments) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record LogLine(String service, String containerId, String stream, String line) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Logs(String name, List<LogLine> lines) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Removed(String name, boolean removedVolumes, List<String> volumesKept) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RepoHead(String repo, String ref, String commit) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record HostStats(double load1, double load5, double load15, int cpus, long memoryTotalBytes,
                     long memoryAvailableBytes, String diskPath, long diskTotalBytes, long diskFreeBytes,
                     int containersRunning, int containersTotal) {
    }

    /** A progress frame: one line of git or compose output, or a step of the pipeline. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Progress(String name, String stage, String line) {
    }
}
