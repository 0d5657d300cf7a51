package dev.hostdeploy.guardian;

import dev.hostdeploy.protocol.cli.AgentOptions;
import dev.hostdeploy.protocol.cli.ExitCodes;
import dev.hostdeploy.protocol.cli.Shutdown;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Serve the Guardian: own the host firewall table and port forwards for the Manager.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    AgentOptions agent;

    /** The systemd unit's {@code StateDirectory}. */
    static final String DEFAULT_STATE = "/var/lib/hostdeploy/guardian";

    @Option(names = "--state", defaultValue = DEFAULT_STATE, paramLabel = "STATE_DIR",
            description = "Directory for the desired firewall state (firewall.json) (default: ${DEFAULT-VALUE})")
    Path state;

    @Option(names = "--table", defaultValue = "hostdeploy", paramLabel = "NAME",
            description = "The one nft table (family inet) the Guardian owns (default: ${DEFAULT-VALUE})")
    String table;

    @Option(names = "--default-drop", description = "Drop input that is not open (SSH and the Guardian's port stay open)")
    boolean defaultDrop;

    @Option(names = "--ssh-port", defaultValue = "22", paramLabel = "PORT",
            description = "SSH port that always stays reachable (default: ${DEFAULT-VALUE})")
    int sshPort;

    @Option(names = "--guard-docker",
            description = "Let new connections reach Docker-published ports only when the port is open")
    boolean guardDocker;

    @Option(names = "--docker-interface", split = ",", defaultValue = "docker0,br-*", paramLabel = "IFACE",
            description = "Docker bridge interfaces for --guard-docker (default: ${DEFAULT-VALUE})")
    List<String> dockerInterfaces;

    @Option(names = "--check-interval", defaultValue = "30", paramLabel = "SECONDS",
            description = "Seconds between drift checks (default: ${DEFAULT-VALUE})")
    long checkSeconds;

    @Option(names = "--nft", split = ",", defaultValue = "nft", paramLabel = "CMD",
            description = "The nft command, words separated by commas, e.g. ip,netns,exec,NS,nft (default: ${DEFAULT-VALUE})")
    List<String> nft;

    @Option(names = "--caddy-admin", paramLabel = "HOST:PORT|SOCKET",
            description = "Caddy's admin API (e.g. localhost:2019 or /run/caddy/admin.sock): enables ingress routes")
    String caddyAdmin;

    @Option(names = "--http-port", defaultValue = "80", paramLabel = "PORT",
            description = "Port Caddy serves HTTP (and ACME challenges) on (default: ${DEFAULT-VALUE})")
    int httpPort;

    @Option(names = "--https-port", defaultValue = "443", paramLabel = "PORT",
            description = "Port Caddy serves HTTPS on (default: ${DEFAULT-VALUE})")
    int httpsPort;

    @Option(names = "--acme-email", paramLabel = "EMAIL", description = "Contact address for the ACME account")
    String acmeEmail;

    @Option(names = "--acme-ca", paramLabel = "URL",
            description = "ACME directory URL, e.g. a staging or private CA (default: Caddy's, Let's Encrypt)")
    String acmeCa;

    @Option(names = "--upstream-network", split = ",", paramLabel = "CIDR",
            description = "Networks a route's upstream may be in (default: loopback and private container ranges "
                    + "127.0.0.0/8,::1,172.16.0.0/12,10.0.0.0/8,192.168.0.0/16,fd00::/8)")
    List<String> upstreamNetworks;

    @Override
    public Integer call() throws Exception {
        agent.startLogging("guardian");
        if (checkSeconds < 1) {
            throw new IllegalArgumentException("--check-interval must be at least 1 second");
        }
        GuardianAgent g = GuardianAgent.builder(agent.identity("guardian"), agent.trustList(), state)
                .listen(agent.listenAddress()).table(table).defaultDrop(defaultDrop).sshPort(sshPort)
                .guardDocker(guardDocker).dockerInterfaces(dockerInterfaces)
                .checkInterval(Duration.ofSeconds(checkSeconds)).nftCommand(nft)
                .caddyAdmin(caddyAdmin).httpPort(httpPort).httpsPort(httpsPort).acmeEmail(acmeEmail).acmeCa(acmeCa)
                .upstreamNetworks(upstreamNetworks == null ? dev.hostdeploy.schema.ingress.Upstream.DEFAULT_NETWORKS
                        : upstreamNetworks)
                .build();
        Shutdown shutdown = Shutdown.closing(g); // the table stays in force: stopping opens or closes nothing
        g.start();
        shutdown.await();
        return ExitCodes.OK;
    }
}
