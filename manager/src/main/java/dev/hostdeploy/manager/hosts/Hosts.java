package dev.hostdeploy.manager.hosts;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Updates;
import com.mongodb.client.model.Sorts;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.protocol.Fingerprints;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.protocol.Validation;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.bson.Document;
import org.bson.conversions.Bson;

/** Registered hosts: each has one Worker and the Guardian assigned to it, pinned by fingerprint. */
public final class Hosts {
    static final String HOSTS = "hosts";
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    // host:port, host being a DNS name, IPv4 or [IPv6]; no scheme, path or user info.
    static final Pattern ADDRESS = Pattern.compile("(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,252}))"
            + ":([0-9]{1,5})");

    private final MongoCollection<Document> hosts;

    /** Where one agent listens and the public key it must present. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record AgentAddress(String address, String fingerprint) {
        public AgentAddress {
            Validation.required(address, "address");
            checkAddress(address);
            Validation.required(fingerprint, "fingerprint");
            fingerprint = checkFingerprint(fingerprint);
        }
    }

    static void checkAddress(String address) {
        var m = ADDRESS.matcher(address);
        Validation.require(m.matches(), "address", "must be host:port (e.g. 10.0.0.5:7443)");
        int port = Integer.parseInt(m.group(3));
        Validation.require(port >= 1 && port <= 65535, "address", "port must be 1-65535");
    }

    static String checkFingerprint(String fingerprint) {
        Validation.require(Fingerprints.isValid(fingerprint), "fingerprint", "must be sha256: followed by 64 hex digits");
        return Fingerprints.normalize(fingerprint);
    }

    /** Where members reach the host (their containers' SSH): a DNS name or an IP address, no port. */
    static final Pattern PUBLIC_ADDRESS = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|[0-9a-fA-F:.]{2,45}");

    static void checkPublicAddress(String publicAddress) {
        if (publicAddress != null) {
            Validation.require(PUBLIC_ADDRESS.matcher(publicAddress).matches(), "publicAddress",
                    "must be a DNS name or an IP address, without a port (e.g. lumi.example.org)");
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NewHost(String name, AgentAddress worker, AgentAddress guardian, String publicAddress) {
        public NewHost {
            Validation.required(name, "name");
            Validation.require(NAME.matcher(name).matches(), "name",
                    "must be 1-63 of a-z, 0-9 and '-', starting with a letter or digit");
            Validation.required(worker, "worker");
            Validation.required(guardian, "guardian");
            checkPublicAddress(publicAddress);
        }

        public NewHost(String name, AgentAddress worker, AgentAddress guardian) {
            this(name, worker, guardian, null);
        }
    }

    /** A change to one agent's registration: either field may be left out. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record AgentPatch(String address, String fingerprint) {
        public AgentPatch {
            Validation.require(address != null || fingerprint != null, "address",
                    "give address, fingerprint or both");
            if (address != null) {
                checkAddress(address);
            }
            if (fingerprint != null) {
                fingerprint = checkFingerprint(fingerprint);
            }
        }

        AgentAddress applyTo(AgentAddress current) {
            return new AgentAddress(address != null ? address : current.address(),
                    fingerprint != null ? fingerprint : current.fingerprint());
        }
    }

    /** PATCH /hosts/{id}: new addresses or fingerprints for a host's agents; the name stays. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record HostPatch(AgentPatch worker, AgentPatch guardian, String publicAddress) {
        public HostPatch {
            Validation.require(worker != null || guardian != null || publicAddress != null, "worker",
                    "give worker, guardian, publicAddress or several");
            checkPublicAddress(publicAddress);
        }

        public HostPatch(AgentPatch worker, AgentPatch guardian) {
            this(worker, guardian, null);
        }

        public NewHost applyTo(Host host) {
            return new NewHost(host.name(), worker == null ? host.worker() : worker.applyTo(host.worker()),
                    guardian == null ? host.guardian() : guardian.applyTo(host.guardian()),
                    publicAddress == null ? host.publicAddress() : publicAddress);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Host(String id, String name, AgentAddress worker, AgentAddress guardian, java.time.Instant createdAt,
                       String publicAddress) {
        /** Where members reach the host: its public address, else the host part of its Worker's address. */
        public String sshHost() {
            if (publicAddress != null) {
                return publicAddress;
            }
            String a = worker.address();
            String h = a.substring(0, a.lastIndexOf(':'));
            return h.startsWith("[") ? h.substring(1, h.length() - 1) : h;
        }

        public AgentAddress agent(String role) {
            return role.equals("worker") ? worker : guardian;
        }
    }

    public Hosts(Database db) {
        this.hosts = db.collection(HOSTS);
        hosts.createIndex(Indexes.ascending("name"), new IndexOptions().unique(true));
    }

    public Host create(NewHost request) {
        Document doc = new Document("_id", Store.newId()).append("name", request.name())
                .append("worker", agent(request.worker())).append("guardian", agent(request.guardian()))
                .append("createdAt", new Date()).append("publicAddress", request.publicAddress());
        try {
            hosts.insertOne(doc);
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                throw ProtocolException.conflict("a host named " + request.name() + " already exists");
            }
            throw e;
        }
        return host(doc);
    }

    public List<Host> list() {
        List<Host> out = new ArrayList<>();
        for (Document d : hosts.find().sort(Sorts.ascending("name"))) {
            out.add(host(d));
        }
        return out;
    }

    /**
     * The hosts one of whose agents has one of these addresses (case aside) or fingerprints: a query, so
     * registering the thousandth host does not read the other 999.
     */
    public List<Host> holding(List<String> addresses, List<String> fingerprints) {
        List<Bson> any = new ArrayList<>();
        for (String role : List.of("worker", "guardian")) {
            for (String a : addresses) {
                any.add(Filters.regex(role + ".address",
                        java.util.regex.Pattern.compile("^" + java.util.regex.Pattern.quote(a) + "$",
                                java.util.regex.Pattern.CASE_INSENSITIVE)));
            }
            any.add(Filters.in(role + ".fingerprint", fingerprints));
        }
        List<Host> out = new ArrayList<>();
        for (Document d : hosts.find(Filters.or(any))) {
            out.add(host(d));
        }
        return out;
    }

    public Optional<Host> get(String id) {
        return Optional.ofNullable(hosts.find(Filters.eq("_id", id)).first()).map(Hosts::host);
    }

    public Host require(String id) {
        return get(id).orElseThrow(() -> ProtocolException.notFound("no host " + id));
    }

    /** Replaces the agents' registrations of a host; its id, name and creation time stay. */
    public Host update(String id, NewHost registration) {
        Host host = require(id);
        hosts.updateOne(Filters.eq("_id", id), Updates.combine(Updates.set("worker", agent(registration.worker())),
                Updates.set("guardian", agent(registration.guardian())),
                Updates.set("publicAddress", registration.publicAddress())));
        return new Host(host.id(), host.name(), registration.worker(), registration.guardian(), host.createdAt(),
                registration.publicAddress());
    }

    public Host delete(String id) {
        Host host = require(id);
        hosts.deleteOne(Filters.eq("_id", id));
        return host;
    }

    private static Document agent(AgentAddress a) {
        return new Document("address", a.address()).append("fingerprint", a.fingerprint());
    }

    private static Host host(Document d) {
        Document w = d.get("worker", Document.class);
        Document g = d.get("guardian", Document.class);
        return new Host(d.getString("_id"), d.getString("name"),
                new AgentAddress(w.getString("address"), w.getString("fingerprint")),
                new AgentAddress(g.getString("address"), g.getString("fingerprint")),
                d.getDate("createdAt").toInstant(), d.getString("publicAddress"));
    }
}
