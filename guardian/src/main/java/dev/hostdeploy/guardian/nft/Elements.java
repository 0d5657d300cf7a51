package dev.hostdeploy.guardian.nft;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The elements of the table's sets and maps, per set, keyed by the element's canonical text ({@link NftJson#key}). */
public final class Elements {
    private final Map<String, Map<String, JsonNode>> bySet = new TreeMap<>();

    void add(String set, JsonNode elem) {
        bySet.computeIfAbsent(set, k -> new LinkedHashMap<>()).put(NftJson.key(elem), elem);
    }

    void remove(String set, String key) {
        Map<String, JsonNode> m = bySet.get(set);
        if (m != null) {
            m.remove(key);
        }
    }

    void replace(String set, Map<String, JsonNode> elems) {
        bySet.put(set, new LinkedHashMap<>(elems));
    }

    Map<String, JsonNode> of(String set) {
        return bySet.getOrDefault(set, Map.of());
    }

    /** The sets that have (or had) elements. */
    Set<String> sets() {
        return bySet.keySet();
    }

    public int count() {
        return bySet.values().stream().mapToInt(Map::size).sum();
    }
}
