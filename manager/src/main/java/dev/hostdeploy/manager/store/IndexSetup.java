package dev.hostdeploy.manager.store;

import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;

/** Creates every index at start; creating an existing index is a no-op. */
final class IndexSetup {
    private IndexSetup() {
    }

    static void ensure(Database db) {
        IndexOptions unique = new IndexOptions().unique(true);
        db.collection(Users.USERS).createIndex(Indexes.ascending("name"), unique);
        db.collection(Users.TOKENS).createIndex(Indexes.ascending("hash"), unique);
        db.collection(Users.TOKENS).createIndex(Indexes.ascending("userId"));
        db.collection(Hosts.HOSTS).createIndex(Indexes.ascending("name"), unique);
        db.collection(AuditLog.AUDIT).createIndex(Indexes.descending("time"));
        db.collection(AuditLog.AUDIT).createIndex(Indexes.ascending("actor"));
        db.collection(Records.DEPLOYMENTS).createIndex(Indexes.ascending("hostId"));
        db.collection(Records.CONTAINERS).createIndex(Indexes.ascending("hostId"));
    }
}
