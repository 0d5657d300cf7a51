package dev.hostdeploy.manager.ingress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hostdeploy.manager.http.ApiException;
import dev.hostdeploy.manager.ingress.Domains.Domain;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.DeploySchema.Port;
import dev.hostdeploy.schema.deploy.DeploySchema.Service;
import java.util.List;
import org.junit.jupiter.api.Test;

class IngressServiceTest {
    private final IngressService ingress = new IngressService(null, null, List.of(".apps.example.org"), "acme");

    @Test
    void aMemberMayNameOnlyHostnamesUnderAnAllowedSuffixAnAdminAny() {
        ingress.check(List.of(new Domain("web.apps.example.org", "web", 80, null)), false);
        assertThatThrownBy(() -> ingress.check(List.of(new Domain("web.apps.example.org", "web", 80, null),
                new Domain("evilapps.example.org", "web", 80, null)), false))
                .isInstanceOf(ApiException.class).hasMessageContaining("domains[1].host");
        ingress.check(List.of(new Domain("www.example.com", "web", 80, null)), true);
        assertThatThrownBy(() -> ingress.check(List.of(new Domain("a.test", "web", 80, null),
                new Domain("A.test", "web", 81, null)), true))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("twice");
    }

    @Test
    void aRouteDialsTheIpv4PortWhenDockerPublishedDifferentPortsForIpv4AndIpv6() {
        var ipv6First = List.of(new Service("web", "c1", "site-web-1", "running", null, null, null,
                List.of(new Port("::", 32864, 8080, "tcp"), new Port("0.0.0.0", 32871, 8080, "tcp"))));
        assertThat(IngressService.upstream(ipv6First, "web", 8080)).isEqualTo("127.0.0.1:32871");
        var ipv6Only = List.of(new Service("web", "c1", "site-web-1", "running", null, null, null,
                List.of(new Port("::", 32864, 8080, "tcp"))));
        assertThat(IngressService.upstream(ipv6Only, "web", 8080)).isEqualTo("[::1]:32864");
    }

    @Test
    void aRouteGoesToTheHostPortTheServicePublishesItsContainerPortOn() {
        List<Service> services = List.of(new Service("web", "c1", "site-web-1", "running", null, null, null,
                List.of(new Port("0.0.0.0", 49153, 8080, "tcp"), new Port("::", 49154, 8080, "tcp"))),
                new Service("db", "c2", "site-db-1", "running", null, null, null,
                        List.of(new Port("127.0.0.1", 5433, 5432, "tcp"))));
        assertThat(IngressService.upstream(services, "web", 8080)).isEqualTo("127.0.0.1:49153");
        assertThat(IngressService.upstream(services, "db", 5432)).isEqualTo("127.0.0.1:5433");
        assertThat(IngressService.upstream(services, "web", 9090)).isNull();
        assertThat(IngressService.upstream(services, "api", 8080)).isNull();
    }

    @Test
    void aDomainWithAWildcardOrASpaceIsInvalidNamingTheHost() {
        assertThatThrownBy(() -> new Domain("*.example.org", "web", 80, null)).isInstanceOf(ProtocolException.class)
                .extracting(e -> ((ProtocolException) e).field()).isEqualTo("host");
        assertThatThrownBy(() -> new Domain("a b.example.org", "web", 80, null))
                .extracting(e -> ((ProtocolException) e).field()).isEqualTo("host");
        assertThatThrownBy(() -> new Domain("a.example.org", "web", 0, null))
                .extracting(e -> ((ProtocolException) e).field()).isEqualTo("port");
    }
}
