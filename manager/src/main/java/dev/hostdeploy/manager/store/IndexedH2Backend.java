package dev.hostdeploy.manager.store;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.AbstractUniqueIndex;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import java.util.List;
import java.util.Map;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ObjectDataType;

/**
 * mongo-java-server's H2 backend with unique indexes (the _id index included) whose keys compare without
 * serializing ({@link IndexKeyType}, {@link IndexLayout}) and documents stored without Java serialization
 * ({@link DocumentType}). Opening a store written with the plain layout rebuilds its index maps first, once.
 * Public for the store benchmark, which compares it with the plain backend.
 */
public class IndexedH2Backend extends H2Backend {

    /** Rebuilds the store's plain-layout index maps, if any, then opens its databases. */
    public IndexedH2Backend(MVStore store) {
        super(migrated(store));
    }

    private static MVStore migrated(MVStore store) {
        IndexLayout.migrate(store);
        return store;
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        return new IndexedDatabase(databaseName);
    }

    /**
     * An inner class, not a static one: H2Database's constructor opens the indexes, so this runs
     * {@link #openOrCreateUniqueIndex} before any field of its own is set, and reaches the store through
     * the enclosing backend (whose reference javac sets before calling the super constructor).
     */
    private final class IndexedDatabase extends H2Database {
        IndexedDatabase(String databaseName) {
            super(databaseName, getMvStore(), getCursorRegistry());
        }

        @Override
        protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                        boolean sparse) {
            return new UniqueIndex(IndexLayout.open(getMvStore(),
                    IndexLayout.mapName(getFullCollectionNamespace(collectionName), indexName)), indexName, keys, sparse);
        }

        /** As H2Database opens a collection (same map names), with the documents in {@link DocumentType}. */
        @Override
        protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
            String namespace = getFullCollectionNamespace(collectionName);
            MVMap<Object, Document> documents = getMvStore().openMap("databases." + namespace,
                    new MVMap.Builder<Object, Document>().keyType(new ObjectDataType()).valueType(new DocumentType()));
            MVMap<String, Object> counters = getMvStore().openMap("meta." + namespace);
            return new H2Collection(this, collectionName, options, documents, counters, getCursorRegistry());
        }

        @Override
        protected void dropIndex(MongoCollection<Object> collection, String indexName) {
            MVStore store = getMvStore();
            String namespace = getFullCollectionNamespace(collection.getCollectionName());
            String plain = IndexLayout.plainMapName(namespace, indexName);
            if (store.hasMap(plain)) {
                // Open with H2's default type, the one its keys were written with, before super removes it.
                store.openMap(plain);
            }
            super.dropIndex(collection, indexName);
            store.removeMap(IndexLayout.open(store, IndexLayout.mapName(namespace, indexName)));
        }
    }

    /** mongo-java-server's H2UniqueIndex (whose constructor is package-private) over a map of our type. */
    private static final class UniqueIndex extends AbstractUniqueIndex<Object> {
        private final MVMap<KeyValue, Object> map;

        UniqueIndex(MVMap<KeyValue, Object> map, String name, List<IndexKey> keys, boolean sparse) {
            super(name, keys, sparse);
            this.map = map;
        }

        @Override
        protected Object removeDocument(KeyValue keyValue) {
            return map.remove(keyValue);
        }

        @Override
        protected boolean putKeyPosition(KeyValue keyValue, Object position) {
            return map.putIfAbsent(keyValue, Missing.ofNullable(position)) == null;
        }

        @Override
        protected Iterable<Map.Entry<KeyValue, Object>> getIterable() {
            return map.entrySet();
        }

        @Override
        protected Object getPosition(KeyValue keyValue) {
            return map.get(keyValue);
        }

        @Override
        public long getCount() {
            return map.sizeAsLong();
        }

        @Override
        public boolean isEmpty() {
            return map.isEmpty();
        }

        @Override
        public long getDataSize() {
            return getCount();
        }
    }
}
