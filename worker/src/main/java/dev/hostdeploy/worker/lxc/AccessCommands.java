package dev.hostdeploy.worker.lxc;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.worker.lxc.LxcRequests.ExposeRequest;
import dev.hostdeploy.worker.lxc.LxcRequests.KeysRequest;
import dev.hostdeploy.worker.lxc.LxcRequests.LimitsRequest;
import dev.hostdeploy.worker.lxc.LxcRequests.NameRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/** lxc.keys.set, lxc.limits.set, lxc.ssh.expose, lxc.ssh.unexpose. */
final class AccessCommands {
    private final LxcService svc;
    private final SshSetup ssh;

    AccessCommands(LxcService svc, SshSetup ssh) {
        this.svc = svc;
        this.ssh = ssh;
    }

    void register(BiConsumer<String, CommandHandler> r) {
        r.accept("lxc.keys.set", this::setKeys);
        r.accept("lxc.limits.set", this::setLimits);
        r.accept("lxc.ssh.expose", this::expose);
        r.accept("lxc.ssh.unexpose", this::unexpose);
    }

    Object setKeys(CommandContext ctx) {
        KeysRequest req = ctx.data(KeysRequest.class);
        List<SshKeys.Key> keys = SshKeys.parseAll(req.sshKeys(), "sshKeys");
        return svc.locked(req.name(), () -> {
            svc.require(req.name());
            ssh.installKeys(req.name(), keys);
            return Map.of("name", req.name(), "fingerprints", keys.stream().map(SshKeys.Key::fingerprint).toList());
        });
    }

    Object setLimits(CommandContext ctx) {
        LimitsRequest req = ctx.data(LimitsRequest.class);
        return svc.locked(req.name(), () -> {
            LxdInstance i = svc.require(req.name());
            Map<String, Object> patch = new LinkedHashMap<>();
            Map<String, String> config = new LinkedHashMap<>();
            if (req.limits().cpu() != null) {
                config.put("limits.cpu", req.limits().cpu().toString());
            }
            if (req.limits().memory() != null) {
                config.put("limits.memory", req.limits().memory());
            }
            if (!config.isEmpty()) {
                patch.put("config", config);
            }
            if (req.limits().disk() != null) {
                String pool = i.rootDisk().getOrDefault("pool", null);
                patch.put("devices", Map.of("root",
                        InstanceCommands.rootDisk(pool != null ? pool : svc.defaultPool(), req.limits().disk())));
            }
            svc.lxd.sync("PATCH", LxcService.path(req.name()), patch);
            return svc.view(req.name());
        });
    }

    Object expose(CommandContext ctx) {
        ExposeRequest req = ctx.data(ExposeRequest.class);
        String listen = "tcp:" + (req.address().contains(":") ? "[" + req.address() + "]" : req.address())
                + ":" + req.hostPort();
        return svc.locked(req.name(), () -> {
            LxdInstance self = svc.require(req.name());
            Map<String, String> current = self.devices().get(LxcService.SSH_DEVICE);
            if (current != null && listen.equals(current.get("listen"))) {
                return svc.view(req.name());
            }
            for (var n : svc.lxd.get("/1.0/instances?recursion=1")) {
                LxdInstance other = LxdInstance.of(n);
                if (other.name().equals(req.name())) {
                    continue;
                }
                for (Map<String, String> d : other.devices().values()) {
                    String l = d.get("listen");
                    if ("proxy".equals(d.get("type")) && l != null && l.endsWith(":" + req.hostPort())) {
                        throw ProtocolException.conflict("host port " + req.hostPort() + " is already used by another container");
                    }
                }
            }
            requireFreeOnHost(req.address(), req.hostPort());
            Map<String, String> device = new LinkedHashMap<>();
            device.put("type", "proxy");
            device.put("listen", listen);
            // Proxy devices connect inside the container's network namespace, so no NIC is needed.
            device.put("connect", "tcp:127.0.0.1:22");
            device.put("bind", "host");
            svc.lxd.sync("PATCH", LxcService.path(req.name()), Map.of("devices", Map.of(LxcService.SSH_DEVICE, device)));
            return svc.view(req.name());
        });
    }

    /**
     * Refuses a port a host process already holds. LXD would refuse it too, but only after trying,
     * and with an error that varies with where its listener failed.
     */
    private static void requireFreeOnHost(String address, int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getByName(address), port), 1);
        } catch (IOException e) {
            throw ProtocolException.conflict("host port " + port + " on " + address + " is already in use on the host");
        }
    }

    Object unexpose(CommandContext ctx) {
        NameRequest req = ctx.data(NameRequest.class);
        return svc.locked(req.name(), () -> {
            LxdInstance i = svc.require(req.name());
            if (i.devices().containsKey(LxcService.SSH_DEVICE)) {
                Map<String, Map<String, String>> devices = new LinkedHashMap<>(i.devices());
                devices.remove(LxcService.SSH_DEVICE);
                svc.putDevices(i, devices);
            }
            return svc.view(req.name());
        });
    }
}
