package dev.hostdeploy.worker.lxc;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What the Worker reads of an LXD instance (GET /1.0/instances/NAME, recursion=2 adds state). */
@JsonIgnoreProperties(ignoreUnknown = true)
record LxdInstance(
        String name,
        String status,
        Map<String, String> config,
        Map<String, Map<String, String>> devices,
        @JsonProperty("expanded_devices") Map<String, Map<String, String>> expandedDevices,
        @JsonProperty("created_at") String createdAt,
        State state) {

    LxdInstance {
        config = config == null ? Map.of() : config;
        devices = devices == null ? Map.of() : devices;
        expandedDevices = expandedDevices == null ? Map.of() : expandedDevices;
    }

    static LxdInstance of(JsonNode node) {
        try {
            return Json.MAPPER.treeToValue(node, LxdInstance.class);
        } catch (Exception e) {
            throw new IllegalStateException("unexpected LXD instance JSON", e);
        }
    }

    LxdInstance withState(State s) {
        return new LxdInstance(name, status, config, devices, expandedDevices, createdAt, s);
    }

    boolean running() {
        return "Running".equalsIgnoreCase(status);
    }

    /** The owner as recorded; null for a container hostdeploy did not make. */
    String owner() {
        return config.get(LxcService.OWNER_KEY);
    }

    boolean managed() {
        return owner() != null;
    }

    /** Whether it can have addresses beyond loopback: a NIC device, or raw LXC network config. */
    boolean hasNetwork() {
        for (Map<String, String> d : expandedDevices.values()) {
            if ("nic".equals(d.get("type"))) {
                return true;
            }
        }
        return config.getOrDefault("raw.lxc", "").contains("lxc.net");
    }

    /** The root disk device as LXD applies it (from the profile unless overridden). */
    Map<String, String> rootDisk() {
        for (Map.Entry<String, Map<String, String>> d : expandedDevices.entrySet()) {
            if ("disk".equals(d.getValue().get("type")) && "/".equals(d.getValue().get("path"))) {
                return d.getValue();
            }
        }
        return Map.of();
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record State(String status, Map<String, Nic> network) {
        static State of(JsonNode node) {
            try {
                return Json.MAPPER.treeToValue(node, State.class);
            } catch (Exception e) {
                throw new IllegalStateException("unexpected LXD state JSON", e);
            }
        }

        /** Addresses a member could reach, loopback left out. */
        List<String> addresses() {
            List<String> out = new ArrayList<>();
            if (network != null) {
                network.forEach((nic, n) -> {
                    if (!"lo".equals(nic) && n.addresses() != null) {
                        for (Address a : n.addresses()) {
                            if (!"link".equals(a.scope())) {
                                out.add(a.address());
                            }
                        }
                    }
                });
            }
            return out;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Nic(List<Address> addresses) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Address(String family, String address, String scope) {
    }

    /** A snapshot as LXD lists it; {@code expiresAt} null when it never expires. */
    record Snapshot(String name, String createdAt, String expiresAt) {
        static Snapshot of(JsonNode n) {
            String name = n.path("name").asText();
            int slash = name.lastIndexOf('/');
            String expires = n.path("expires_at").asText(null);
            // LXD reports "never expires" as the zero time.
            if (expires != null && expires.startsWith("0001-01-01")) {
                expires = null;
            }
            return new Snapshot(slash >= 0 ? name.substring(slash + 1) : name, n.path("created_at").asText(null), expires);
        }
    }
}
