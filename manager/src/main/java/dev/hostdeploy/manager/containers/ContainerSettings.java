package dev.hostdeploy.manager.containers;

import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.lxc.LxcRules;
import java.time.Duration;
import java.util.Map;

/** The Manager's container options. Quota fields left null in a member's override take these. */
public record ContainerSettings(int portMin, int portMax, int maxContainers, Map<String, ContainerSize> sizes,
                         String defaultImage, Duration grace, Duration recoveryWait, Duration purgeEvery) {
    public ContainerSettings {
        if (portMin < 1024 || portMax > 65535 || portMin > portMax) {
            throw new IllegalArgumentException("--ssh-port-range must be LOW-HIGH within 1024-65535");
        }
        if (maxContainers < 0) {
            throw new IllegalArgumentException("--max-containers-per-member must be 0 or more");
        }
        if (sizes.isEmpty()) {
            throw new IllegalArgumentException("--size: at least one size is needed");
        }
        if (defaultImage != null) {
            try {
                LxcRules.image(defaultImage, "--default-image");
            } catch (ProtocolException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
        }
        sizes = Map.copyOf(sizes);
    }

    String defaultSize() {
        return sizes.containsKey("small") ? "small" : sizes.keySet().stream().sorted().findFirst().orElseThrow();
    }
}
