package dev.hostdeploy.manager.store;

import de.bwaldvogel.mongo.backend.KeyValue;
import java.io.Serial;
import java.io.Serializable;
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
 *
 * <p>A plain-layout map is not removed but left holding one {@link Moved} key: mongo-java-server would
 * otherwise recreate it empty under an older Manager (one without this class), which would then find no
 * document by _id; with the key, that older Manager fails to open the store instead.
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

    static String plainMapName(String collectionNamespace, String indexName) {
        return collectionNamespace + PLAIN_INFIX + indexName;
    }

    static MVMap<KeyValue, Object> open(MVStore store, String mapName) {
        return store.openMap(mapName, new MVMap.Builder<KeyValue, Object>()
                .keyType(IndexKeyType.KEYS).valueType(IndexKeyType.VALUES));
    }

    /**
     * What a rebuilt plain-layout map keeps: this one key, so that an older Manager (whose jar lacks this
     * class) fails to open the store instead of serving empty indexes, and so that the next start knows
     * the map is done. Keep the class (name and fields) for as long as such files may exist.
     */
    record Moved(String to) implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
    }

    /**
     * Rebuilds every index map of the plain layout in ours, before mongo-java-server opens the databases
     * (it would open the new names and find them empty), and leaves the old map holding only a
     * {@link Moved} key. Safe to cut short at any point, whenever H2 happens to commit: the old map gets its
     * Moved key only once the new map is complete, and loses its other keys only after that; a start that
     * finds a plain map without the key drops any new map of that name and builds it again.
     * Returns how many maps were rebuilt (0 once done).
     */
    static int migrate(MVStore store) {
        List<String> plain = new ArrayList<>();
        for (String name : store.getMapNames()) {
            if (name.contains(PLAIN_INFIX) && COLLECTION_PREFIXES.stream().noneMatch(name::startsWith)) {
                plain.add(name);
            }
        }
        int rebuilt = 0;
        for (String name : plain) {
            long started = System.nanoTime();
            String target = name.replace(PLAIN_INFIX, INFIX);
            Moved moved = new Moved(target);
            // H2's default type, as the plain backend wrote it.
            MVMap<Object, Object> old = store.openMap(name);
            if (old.containsKey(moved)) {
                continue;
            }
            if (store.hasMap(target)) {
                store.removeMap(open(store, target));
            }
            MVMap<KeyValue, Object> map = open(store, target);
            for (Map.Entry<Object, Object> e : old.entrySet()) {
                map.put((KeyValue) e.getKey(), e.getValue());
            }
            old.put(moved, target);
            for (Object key : new ArrayList<>(old.keySet())) {
                if (!moved.equals(key)) {
                    old.remove(key);
                }
            }
            store.commit();
            rebuilt++;
            LOG.info("rebuilt index map {} as {} ({} keys, {} ms)", name, target, map.sizeAsLong(),
                    (System.nanoTime() - started) / 1_000_000);
        }
        return rebuilt;
    }
}
