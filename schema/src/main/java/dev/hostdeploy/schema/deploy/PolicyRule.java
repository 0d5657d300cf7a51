package dev.hostdeploy.schema.deploy;

import java.util.Arrays;
import java.util.Optional;

/**
 * The rules of the Worker's compose policy, by the name an admin uses to grant an exception in
 * {@code deploy.sync}'s {@code allow} (for example {@code "allow": {"privileged": ["web"]}}). Each rule
 * refuses one way a compose file could reach the host; docs/worker-deploy.md describes them.
 */
public enum PolicyRule {
    /** {@code privileged: true}. */
    PRIVILEGED("privileged"),
    /** {@code network_mode: host}. */
    HOST_NETWORK("hostNetwork"),
    /** {@code pid: host}. */
    HOST_PID("hostPid"),
    /** {@code ipc: host}. */
    HOST_IPC("hostIpc"),
    /** {@code userns_mode: host}. */
    HOST_USERNS("hostUserns"),
    /** {@code uts: host}. */
    HOST_UTS("hostUts"),
    /** {@code network_mode}, {@code pid} or {@code ipc} joining a container outside the project ({@code container:...}), and {@code volumes_from: container:...}. */
    CONTAINER_NAMESPACES("containerNamespaces"),
    /** {@code devices} and {@code device_cgroup_rules}. */
    DEVICES("devices"),
    /** {@code security_opt} that turns off AppArmor, seccomp, SELinux labels or masked /proc paths. */
    SECURITY_OPT("securityOpt"),
    /** {@code cap_add} beyond Docker's default capabilities. */
    CAP_ADD("capAdd"),
    /** A bind mount (or a named volume binding a host path) outside the checkout. */
    BIND_MOUNTS("bindMounts"),
    /** A mount of the Docker socket, or of a directory holding it. */
    DOCKER_SOCKET("dockerSocket"),
    /** {@code env_file} outside the checkout. */
    ENV_FILE("envFile"),
    /** {@code secrets} or {@code configs} read from a file outside the checkout. */
    SECRET_FILES("secretFiles"),
    /** {@code build.context} or {@code build.dockerfile} outside the checkout. */
    BUILD_CONTEXT("buildContext"),
    /** {@code extends.file} outside the checkout. */
    EXTENDS_FILE("extendsFile");

    private final String key;

    PolicyRule(String key) {
        this.key = key;
    }

    /** The name in {@code allow} and in refusal messages. */
    public String key() {
        return key;
    }

    public static Optional<PolicyRule> byKey(String key) {
        return Arrays.stream(values()).filter(r -> r.key.equals(key)).findFirst();
    }
}
