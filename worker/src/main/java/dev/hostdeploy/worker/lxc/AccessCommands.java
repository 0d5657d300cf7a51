package dev.hostdeploy.worker.lxc;

import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.LxcSchema.Container;
import dev.hostdeploy.schema.lxc.LxcSchema.ExposeRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.KeysRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.KeysSet;
import dev.hostdeploy.schema.lxc.LxcSchema.LimitsRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.NameRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.PortExposeRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.PortUnexposeRequest;
import dev.hostdeploy.schema.lxc.SshKeys;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** lxc.keys.set, lxc.limits.set, lxc.ssh.expose, lxc.ssh.unexpose, lxc.port.expose, lxc.port.unexpose. */
final class AccessCommands {
    private final LxcService svc;
    private final SshSetup ssh;

    AccessCommands(LxcService svc, SshSetup ssh) {
        this.svc = svc;
        this.ssh = ssh;
    }

    void register(HandlerRegistry registry) {
        registry.register(LxcSchema.KEYS_SET, ctx -> setKeys(ctx.data(KeysRequest.class)));
        registry.register(LxcSchema.LIMITS_SET, ctx -> setLimits(ctx.data(LimitsRequest.class)));
        registry.register(LxcSchema.SSH_EXPOSE, ctx -> expose(ctx.data(ExposeRequest.class)));
        registry.register(LxcSchema.SSH_UNEXPOSE, ctx -> unexpose(ctx.data(NameRequest.class)));
        registry.register(LxcSchema.PORT_EXPOSE, ctx -> exposePort(ctx.data(PortExposeRequest.class)));
        registry.register(LxcSchema.PORT_UNEXPOSE, ctx -> unexposePort(ctx.data(PortUnexposeRequest.class)));
    }

    KeysSet setKeys(KeysRequest req) {
        List<SshKeys.Key> keys = req.keys();
        return svc.locked(req.name(), () -> {
            svc.require(req.name());
            ssh.installKeys(req.name(), keys);
            return new KeysSet(req.name(), keys.stream().map(SshKeys.Key::fingerprint).toList());
        });
    }

    Container setLimits(LimitsRequest req) {
        return svc.locked(req.name(), () -> {
            LxdInstance i = svc.require(req.name());
            Map<String, String> config = new LinkedHashMap<>();
            if (req.limits().cpu() != null) {
                config.put("limits.cpu", req.limits().cpu().toString());
            }
            if (req.limits().memory() != null) {
                config.put("limits.memory", req.limits().memory());
            }
            Map<String, Object> devices = new LinkedHashMap<>();
            if (req.limits().disk() != null) {
                String pool = i.rootDisk().getOrDefault("pool", null);
                devices.put("root", InstanceCommands.rootDisk(pool != null ? pool : svc.defaultPool(), req.limits().disk()));
            }
            svc.instances().patch(req.name(), config, devices);
            return svc.view(req.name());
        });
    }

    Container expose(ExposeRequest req) {
        String listen = listen(req.address(), req.hostPort());
        return svc.locked(req.name(), () -> {
            LxdInstance self = svc.require(req.name());
            Map<String, String> current = self.devices().get(LxcService.SSH_DEVICE);
            if (current != null && listen.equals(current.get("listen"))) {
                return svc.view(req.name());
            }
            Map<String, String> device = sshDevice(svc, req.name(), req.address(), req.hostPort());
            svc.instances().patch(req.name(), null, Map.of(LxcService.SSH_DEVICE, device));
            return svc.view(req.name());
        });
    }

    private static String listen(String address, int port) {
        return "tcp:" + (address.contains(":") ? "[" + address + "]" : address) + ":" + port;
    }

    /**
     * The proxy device that forwards {@code address:port} of the host to the container's sshd, once the
     * port is checked free (no other container's proxy, no host process); also what lxc.create adds.
     */
    static Map<String, String> sshDevice(LxcService svc, String name, String address, int port) {
        return proxyDevice(svc, name, LxcService.SSH_DEVICE, address, port, 22);
    }

    /**
     * A proxy device forwarding {@code address:port} of the host to {@code target} on the container's
     * loopback, once the host port is checked free: no proxy device of any container (but the one being
     * replaced, {@code deviceName} of {@code name}) listens on it, no host process holds it.
     */
    static Map<String, String> proxyDevice(LxcService svc, String name, String deviceName, String address, int port,
                                           int target) {
        for (LxdInstance other : svc.instances().list(false)) {
            for (Map.Entry<String, Map<String, String>> e : other.devices().entrySet()) {
                if (other.name().equals(name) && e.getKey().equals(deviceName)) {
                    continue;
                }
                Map<String, String> d = e.getValue();
                String l = d.get("listen");
                if ("proxy".equals(d.get("type")) && l != null && l.endsWith(":" + port)) {
                    throw ProtocolException.conflict("host port " + port + " is already used by "
                            + (other.name().equals(name) ? "this container's " + e.getKey() : "another container"));
                }
            }
        }
        requireFreeOnHost(address, port);
        Map<String, String> device = new LinkedHashMap<>();
        device.put("type", "proxy");
        device.put("listen", listen(address, port));
        // Proxy devices connect inside the container's network namespace, so no NIC is needed.
        device.put("connect", "tcp:127.0.0.1:" + target);
        device.put("bind", "host");
        return device;
    }

    /** The device that forwards a loopback host port to a container port ({@code lxc.port.expose}). */
    static String portDevice(int hostPort) {
        return LxcService.PORT_DEVICE_PREFIX + hostPort;
    }

    Container exposePort(PortExposeRequest req) {
        String device = portDevice(req.hostPort());
        String listen = listen(req.address(), req.hostPort());
        String connect = "tcp:127.0.0.1:" + req.containerPort();
        return svc.locked(req.name(), () -> {
            LxdInstance self = svc.require(req.name());
            Map<String, String> current = self.devices().get(device);
            if (current != null && listen.equals(current.get("listen")) && connect.equals(current.get("connect"))) {
                return svc.view(req.name()); // already so: a retried request changes nothing
            }
            Map<String, String> d = current != null && listen.equals(current.get("listen"))
                    ? withConnect(current, connect)
                    : proxyDevice(svc, req.name(), device, req.address(), req.hostPort(), req.containerPort());
            svc.instances().patch(req.name(), null, Map.of(device, d));
            return svc.view(req.name());
        });
    }

    private static Map<String, String> withConnect(Map<String, String> device, String connect) {
        Map<String, String> d = new LinkedHashMap<>(device);
        d.put("connect", connect);
        return d;
    }

    Container unexposePort(PortUnexposeRequest req) {
        String device = portDevice(req.hostPort());
        return svc.locked(req.name(), () -> {
            LxdInstance i = svc.require(req.name());
            if (i.devices().containsKey(device)) {
                Map<String, Map<String, String>> devices = new LinkedHashMap<>(i.devices());
                devices.remove(device);
                svc.instances().replaceDevices(req.name(), devices);
            }
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

    Container unexpose(NameRequest req) {
        return svc.locked(req.name(), () -> {
            LxdInstance i = svc.require(req.name());
            if (i.devices().containsKey(LxcService.SSH_DEVICE)) {
                Map<String, Map<String, String>> devices = new LinkedHashMap<>(i.devices());
                devices.remove(LxcService.SSH_DEVICE);
                svc.instances().replaceDevices(req.name(), devices);
            }
            return svc.view(req.name());
        });
    }
}
