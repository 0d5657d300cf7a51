package dev.hostdeploy.worker.lxc;

import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.SshKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Makes sure OpenSSH runs inside a container and installs a member's keys for its login user. The
 * setup script is a constant: nothing a member sends ever becomes part of a shell command.
 */
final class SshSetup {
    static final String RUNNING = LxcSchema.SSH_RUNNING;
    static final String UNAVAILABLE = LxcSchema.SSH_UNAVAILABLE;
    /** Members log in as root of their own (unprivileged) container. */
    static final String LOGIN_HOME = "/root";
    /** The script's exit code when it could not write the keys. */
    private static final int KEYS_FAILED = 13;

    private static final String SCRIPT = """
            # Exit 10: no sshd and no package manager; 11: installing it failed; 12: sshd did not start;
            # 13: the keys could not be written (nothing else was done).
            mkdir -p /root/.ssh && chmod 700 /root/.ssh
            # The member's keys arrive as data in the environment, never as part of this script.
            if [ -n "${HD_WRITE_KEYS:-}" ]; then
              ( umask 077 && printf '%s' "$HD_AUTHORIZED_KEYS" >/root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys ) || exit 13
            fi
            unset HD_WRITE_KEYS HD_AUTHORIZED_KEYS
            # Under systemd, wait only until it takes jobs (not for the whole boot: sshd's own
            # ordering does the rest, and some units may take long without a network).
            case "$(readlink /proc/1/exe 2>/dev/null)" in
              *systemd*)
                i=0
                while [ $i -lt 300 ]; do
                  case "$(systemctl is-system-running 2>/dev/null)" in
                    starting|running|degraded|maintenance) break ;;
                  esac
                  sleep 0.1; i=$((i+1))
                done ;;
            esac
            have_sshd() { command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ]; }
            if ! have_sshd; then
              log=/var/log/hostdeploy-ssh-install.log
              if command -v apt-get >/dev/null 2>&1; then
                export DEBIAN_FRONTEND=noninteractive
                { apt-get update -q && apt-get install -y -q openssh-server; } >"$log" 2>&1 || exit 11
              elif command -v dnf >/dev/null 2>&1; then dnf install -y openssh-server >"$log" 2>&1 || exit 11
              elif command -v yum >/dev/null 2>&1; then yum install -y openssh-server >"$log" 2>&1 || exit 11
              elif command -v apk >/dev/null 2>&1; then apk add --no-cache openssh-server >"$log" 2>&1 || exit 11
              elif command -v zypper >/dev/null 2>&1; then zypper --non-interactive install openssh >"$log" 2>&1 || exit 11
              elif command -v pacman >/dev/null 2>&1; then pacman -Sy --noconfirm openssh >"$log" 2>&1 || exit 11
              else exit 10
              fi
              have_sshd || exit 11
            fi
            ssh-keygen -A >/dev/null 2>&1 || exit 12
            if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
              for unit in ssh sshd; do
                if systemctl cat "$unit.service" >/dev/null 2>&1; then
                  # enable reloads systemd (slow): only when the image left sshd disabled.
                  systemctl is-enabled --quiet "$unit.service" 2>/dev/null || systemctl enable "$unit.service" >/dev/null 2>&1
                  # A start queued at boot, before the host keys existed, can fail under us: retry.
                  for attempt in 1 2 3 4 5 6; do
                    systemctl reset-failed "$unit.service" >/dev/null 2>&1
                    systemctl restart "$unit.service" >/dev/null 2>&1 && exit 0
                    sleep 0.5
                  done
                fi
              done
              exit 12
            elif command -v rc-service >/dev/null 2>&1; then
              rc-update add sshd default >/dev/null 2>&1
              rc-service sshd restart >/dev/null 2>&1 && exit 0
              exit 12
            else
              mkdir -p /run/sshd
              "$(command -v sshd || echo /usr/sbin/sshd)" && exit 0
              exit 12
            fi
            """;

    private final LxdClient lxd;

    SshSetup(LxdClient lxd) {
        this.lxd = lxd;
    }

    record Result(String state, String reason, int exitCode) {
        /** The script got past writing the keys: it ended with one of its own codes other than 13. */
        boolean keysWritten() {
            return exitCode == 0 || (exitCode >= 10 && exitCode <= 12);
        }
    }

    /**
     * Installs the keys and ensures sshd runs in the (running) container, in one exec: a separate file
     * push would start LXD's file server in the container beside it. Never fails the caller for a
     * missing sshd; fails it only when the keys cannot be installed.
     */
    Result setUp(String name, List<SshKeys.Key> keys) {
        Map<String, String> env = Map.of("HD_WRITE_KEYS", "1", "HD_AUTHORIZED_KEYS", SshKeys.authorizedKeys(keys));
        Result r = run(name, env);
        if (!r.keysWritten()) {
            // No shell, or it could not write them: LXD's file API does it (and says why if it can't).
            installKeys(name, keys);
            if (r.exitCode() == KEYS_FAILED) {
                r = run(name, Map.of());
            }
        }
        return r;
    }

    /** Runs the script; never fails the caller for a missing sshd. */
    private Result run(String name, Map<String, String> env) {
        LxdClient.ExecResult r;
        try {
            r = lxd.instances().exec(name, List.of("/bin/sh", "-c", SCRIPT), env, false, Duration.ofMinutes(10));
        } catch (ProtocolException e) {
            return new Result(UNAVAILABLE, "could not run a shell in the container: " + e.getMessage(), -1);
        }
        int code = r.exitCode();
        return switch (code) {
            case 0 -> new Result(RUNNING, null, code);
            case 10 -> new Result(UNAVAILABLE, "the image has no OpenSSH server and no package manager to install one", code);
            case 11 -> new Result(UNAVAILABLE, "installing openssh-server failed (see /var/log/hostdeploy-ssh-install.log in the container)", code);
            default -> new Result(UNAVAILABLE, "sshd did not start (exit " + code + ")", code);
        };
    }

    /** Replaces the login user's authorized_keys with exactly these keys. */
    void installKeys(String name, List<SshKeys.Key> keys) {
        byte[] content = SshKeys.authorizedKeys(keys).getBytes(StandardCharsets.UTF_8);
        try {
            lxd.instances().pushFile(name, LOGIN_HOME + "/.ssh/authorized_keys", content, 0, 0, "0600");
        } catch (ProtocolException e) {
            // No ~/.ssh yet (the setup script makes it, but an image without a shell never ran it).
            lxd.instances().pushFile(name, LOGIN_HOME + "/.ssh", null, 0, 0, "0700");
            lxd.instances().pushFile(name, LOGIN_HOME + "/.ssh/authorized_keys", content, 0, 0, "0600");
        }
    }
}
