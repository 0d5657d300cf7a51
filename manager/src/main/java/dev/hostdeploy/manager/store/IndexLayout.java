package dev.hostdeploy.manager.store;

import de.bwaldvogel.mongo.backend.KeyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where and how the embedded store's unique indexes live in the H2 file. mongo-java-server's plain H2
 * backend keeps index {@code i} of collection {@code db.c} in the map {@code db.c._index_i}, typed with
 * H2's default (serializing) type and so sorted by the keys' serialized bytes; ours keep it in
 * {@code db.c._kindex_i} typed with {@link IndexKeyType}, sorted by another order. The name tells the layout,
 * so a store written by an older Manager is recognised by its maps alone, map by map.
 */
final class IndexLayout {
    private static final Logger LOG = LoggerFactory.getLogger(IndexLayout.class);
    static final String PLAIN_INFIX = "._index_";
    static final String INFIX = "._kindex_";
    /** mongo-java-server's prefixes of a collection's documents and its counters (never index maps). */
    private static final List<String> COLLECTION_PREFIXES = List.of("databases.", "meta.");

    private IndexLayout() {
    }

    static String mapName(String collectionNamespace, String indexName) {
        return collectionNamespace + INFIX + indexName;
    }

    static MVMap<KeyValue, Object> open(MVStore store, String mapName) {
        return store.openMap(mapName, new MVMap.Builder<KeyValue, Object>()
                .keyType(IndexKeyType.KEYS).valueType(IndexKeyType.VALUES));
    }

    /**
     * Rebuilds every index map of the plain layout in ours, before mongo-java-server opens the databases
     * (it would open the new names and find them empty). Each map is switched in one commit: the new map
     * complete and the old one removed, or, after a crash, the old one still there and a partial new one
     * that the next start drops and builds again. Returns how many maps were rebuilt (0 once done).
     */
    static int migrate(MVStore store) {
        List<String> plain = new ArrayList<>();
        for (String name : store.getMapNames()) {
            if (name.contains(PLAIN_INFIX) && COLLECTION_PREFIXES.stream().noneMatch(name::startsWith)) {
                plain.add(name);
            }
        }
        for (String name : plain) {
            long started = System.nanoTime();
            String target = name.replace(PLAIN_INFIX, INFIX);
            if (store.hasMap(target)) {
                // Left by a start that died before its commit: it may be partial.
                store.removeMap(open(store, target));
            }
            // H2's default type, as the plain backend wrote it.
            MVMap<Object, Object> old = store.openMap(name);
            MVMap<KeyValue, Object> rebuilt = open(store, target);
            for (Map.Entry<Object, Object> e : old.entrySet()) {
                rebuilt.put((KeyValue) e.getKey(), e.getValue());
            }
            store.removeMap(old);
            store.commit();
            LOG.info("rebuilt index map {} as {} ({} keys, {} ms)", name, target, rebuilt.sizeAsLong(),
                    (System.nanoTime() - started) / 1_000_000);
        }
        return plain.size();
    }
}
