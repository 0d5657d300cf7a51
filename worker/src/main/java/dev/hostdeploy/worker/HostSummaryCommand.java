package dev.hostdeploy.worker;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ErrorData;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.LogSafe;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.host.HostSchema;
import dev.hostdeploy.schema.host.HostSchema.HostSummary;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.lxc.LxcModule;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code host.summary}: the Worker's figures, deployments and containers in one reply, for the Manager's
 * statistics round (at 1,000 hosts, three calls per Worker with full records were most of the round's
 * cost). It spans both modules, so it is registered here, where the Worker puts them together. Each part
 * fails on its own: LXD being down leaves the figures and the deployments in the reply.
 */
public final class HostSummaryCommand {
    private static final Logger LOG = LoggerFactory.getLogger(HostSummaryCommand.class);

    private HostSummaryCommand() {
    }

    public static void register(HandlerRegistry registry, DeployModule deploy, LxcModule lxc) {
        registry.register(HostSchema.SUMMARY, ctx -> summary(deploy, lxc));
    }

    public static HostSummary summary(DeployModule deploy, LxcModule lxc) {
        Map<String, ErrorData> errors = new LinkedHashMap<>();
        return new HostSummary(part(errors, HostSchema.STATS, deploy::hostStats),
                part(errors, DeploySchema.LIST, deploy::deploymentItems),
                part(errors, LxcSchema.LIST, lxc::containerItems), errors);
    }

    /** The part, or null with its error under the name of the command that reads it alone. */
    private static <T> T part(Map<String, ErrorData> errors, String command, Callable<T> read) {
        try {
            return read.call();
        } catch (ProtocolException e) {
            errors.put(command, e.toErrorData());
        } catch (Exception e) {
            // As the dispatcher does for a whole command: details in the log, none on the wire.
            LOG.error("{} for host.summary failed", LogSafe.of(command), e);
            errors.put(command, ErrorData.of(ErrorCode.INTERNAL, "internal error in " + command, null));
        }
        return null;
    }
}
