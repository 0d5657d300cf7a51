package dev.hostdeploy.manager.store;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

/**
 * How the embedded store keeps a unique index's keys (and the positions they point to) in its H2 map.
 * H2's default type for an object that is not one of its own (mongo-java-server's {@link KeyValue}) compares
 * two keys by Java-serializing both, on every step of every B-tree search: most of the Manager's CPU at a
 * thousand hosts. This type compares the values themselves in a total order that is exactly their equality
 * (compare 0 only for equal values of the same class, which is what an exact-match B-tree needs; the
 * index is never read in key order, so which order does not matter) and writes a compact tagged form,
 * with Java serialization left only for value types the Manager does not use.
 */
final class IndexKeyType extends BasicDataType<KeyValue> {
    static final IndexKeyType KEYS = new IndexKeyType();
    /** The index maps' values: a document's position, its raw _id. */
    static final Values VALUES = new Values();

    // Tags, also the order between values of different types.
    private static final int NULL = 0;
    private static final int MISSING = 1;
    private static final int FALSE = 2;
    private static final int TRUE = 3;
    private static final int DOUBLE = 4;
    private static final int LONG = 5;
    private static final int INT = 6;
    private static final int STRING = 7;
    private static final int OBJECT_ID = 8;
    private static final int INSTANT = 9;
    private static final int DATE = 10;
    private static final int UUID_TAG = 11;
    private static final int BIN_DATA = 12;
    private static final int DOCUMENT = 13;
    private static final int LIST = 14;
    /** Anything else, Java-serialized as H2 would have; ordered by class name, then by those bytes. */
    private static final int SERIALIZED = 15;

    private IndexKeyType() {
    }

    @Override
    public int compare(KeyValue a, KeyValue b) {
        if (a == b) {
            return 0;
        }
        int c = Integer.compare(a.size(), b.size());
        for (int i = 0; c == 0 && i < a.size(); i++) {
            c = compareValues(a.get(i), b.get(i));
        }
        return c;
    }

    @Override
    public int getMemory(KeyValue key) {
        int memory = 32;
        for (Object value : key) {
            memory += memory(value);
        }
        return memory;
    }

    @Override
    public void write(WriteBuffer buff, KeyValue key) {
        buff.putVarInt(key.size());
        for (Object value : key) {
            writeValue(buff, value);
        }
    }

    @Override
    public KeyValue read(ByteBuffer buff) {
        int size = DataUtils.readVarInt(buff);
        List<Object> values = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            values.add(readValue(buff));
        }
        return new KeyValue(values);
    }

    @Override
    public KeyValue[] createStorage(int size) {
        return new KeyValue[size];
    }

    /** One value per entry, same form and order as a key's values. */
    static final class Values extends BasicDataType<Object> {
        private Values() {
        }

        @Override
        public int compare(Object a, Object b) {
            return compareValues(a, b);
        }

        @Override
        public int getMemory(Object value) {
            return memory(value);
        }

        @Override
        public void write(WriteBuffer buff, Object value) {
            writeValue(buff, value);
        }

        @Override
        public Object read(ByteBuffer buff) {
            return readValue(buff);
        }

        @Override
        public Object[] createStorage(int size) {
            return new Object[size];
        }
    }

    private static int tag(Object v) {
        if (v == null) {
            return NULL;
        } else if (v instanceof String) {
            return STRING;
        } else if (v instanceof Double) {
            return DOUBLE;
        } else if (v instanceof Boolean b) {
            return b ? TRUE : FALSE;
        } else if (v instanceof Long) {
            return LONG;
        } else if (v instanceof Integer) {
            return INT;
        } else if (v instanceof Missing) {
            return MISSING;
        } else if (v.getClass() == ObjectId.class) {
            return OBJECT_ID;
        } else if (v instanceof Instant) {
            return INSTANT;
        } else if (v.getClass() == Date.class) {
            return DATE;
        } else if (v instanceof UUID) {
            return UUID_TAG;
        } else if (v.getClass() == BinData.class) {
            return BIN_DATA;
        } else if (v.getClass() == Document.class) {
            return DOCUMENT;
        } else if (v instanceof List) {
            return LIST;
        }
        return SERIALIZED;
    }

    static int compareValues(Object a, Object b) {
        if (a == b) {
            return 0;
        }
        int ta = tag(a);
        int tb = tag(b);
        if (ta != tb) {
            return Integer.compare(ta, tb);
        }
        return switch (ta) {
            case NULL, MISSING, FALSE, TRUE -> 0;
            // Double.compare, unlike ==, is Double.equals: NaN equals NaN, 0.0 differs from -0.0.
            case DOUBLE -> Double.compare((Double) a, (Double) b);
            case LONG -> Long.compare((Long) a, (Long) b);
            case INT -> Integer.compare((Integer) a, (Integer) b);
            case STRING -> ((String) a).compareTo((String) b);
            case OBJECT_ID -> Arrays.compareUnsigned(((ObjectId) a).toByteArray(), ((ObjectId) b).toByteArray());
            case INSTANT -> ((Instant) a).compareTo((Instant) b);
            case DATE -> ((Date) a).compareTo((Date) b);
            case UUID_TAG -> ((UUID) a).compareTo((UUID) b);
            case BIN_DATA -> Arrays.compareUnsigned(((BinData) a).getData(), ((BinData) b).getData());
            case DOCUMENT -> compareDocuments((Document) a, (Document) b);
            case LIST -> compareLists((List<?>) a, (List<?>) b);
            default -> compareSerialized(a, b);
        };
    }

    /** Field by field in their order: Document.equals is order-sensitive too. */
    private static int compareDocuments(Document a, Document b) {
        int c = Integer.compare(a.size(), b.size());
        Iterator<Map.Entry<String, Object>> ia = a.entrySet().iterator();
        Iterator<Map.Entry<String, Object>> ib = b.entrySet().iterator();
        while (c == 0 && ia.hasNext()) {
            Map.Entry<String, Object> ea = ia.next();
            Map.Entry<String, Object> eb = ib.next();
            c = ea.getKey().compareTo(eb.getKey());
            if (c == 0) {
                c = compareValues(ea.getValue(), eb.getValue());
            }
        }
        return c;
    }

    private static int compareLists(List<?> a, List<?> b) {
        int c = Integer.compare(a.size(), b.size());
        Iterator<?> ia = a.iterator();
        Iterator<?> ib = b.iterator();
        while (c == 0 && ia.hasNext()) {
            c = compareValues(ia.next(), ib.next());
        }
        return c;
    }

    private static int compareSerialized(Object a, Object b) {
        int c = a.getClass().getName().compareTo(b.getClass().getName());
        return c != 0 ? c : Arrays.compareUnsigned(serialize(a), serialize(b));
    }

    static void writeValue(WriteBuffer buff, Object v) {
        int tag = tag(v);
        buff.put((byte) tag);
        switch (tag) {
            case NULL, MISSING, FALSE, TRUE -> { }
            case DOUBLE -> buff.putDouble((Double) v);
            case LONG -> buff.putLong((Long) v);
            case INT -> buff.putInt((Integer) v);
            case STRING -> writeString(buff, (String) v);
            case OBJECT_ID -> buff.put(((ObjectId) v).toByteArray());
            case INSTANT -> buff.putLong(((Instant) v).getEpochSecond()).putInt(((Instant) v).getNano());
            case DATE -> buff.putLong(((Date) v).getTime());
            case UUID_TAG -> buff.putLong(((UUID) v).getMostSignificantBits()).putLong(((UUID) v).getLeastSignificantBits());
            case BIN_DATA -> writeBytes(buff, ((BinData) v).getData());
            case DOCUMENT -> {
                Document d = (Document) v;
                buff.putVarInt(d.size());
                for (Map.Entry<String, Object> e : d.entrySet()) {
                    writeString(buff, e.getKey());
                    writeValue(buff, e.getValue());
                }
            }
            case LIST -> {
                List<?> list = (List<?>) v;
                buff.putVarInt(list.size());
                for (Object element : list) {
                    writeValue(buff, element);
                }
            }
            default -> writeBytes(buff, serialize(v));
        }
    }

    static Object readValue(ByteBuffer buff) {
        int tag = buff.get();
        return switch (tag) {
            case NULL -> null;
            case MISSING -> Missing.getInstance();
            case FALSE -> Boolean.FALSE;
            case TRUE -> Boolean.TRUE;
            case DOUBLE -> buff.getDouble();
            case LONG -> buff.getLong();
            case INT -> buff.getInt();
            case STRING -> DataUtils.readString(buff);
            case OBJECT_ID -> {
                byte[] id = new byte[12];
                buff.get(id);
                yield new ObjectId(id);
            }
            case INSTANT -> Instant.ofEpochSecond(buff.getLong(), buff.getInt());
            case DATE -> new Date(buff.getLong());
            case UUID_TAG -> new UUID(buff.getLong(), buff.getLong());
            case BIN_DATA -> new BinData(readBytes(buff));
            case DOCUMENT -> {
                int size = DataUtils.readVarInt(buff);
                Document d = new Document();
                for (int i = 0; i < size; i++) {
                    String key = DataUtils.readString(buff);
                    d.put(key, readValue(buff));
                }
                yield d;
            }
            case LIST -> {
                int size = DataUtils.readVarInt(buff);
                List<Object> list = new ArrayList<>(size);
                for (int i = 0; i < size; i++) {
                    list.add(readValue(buff));
                }
                yield list;
            }
            case SERIALIZED -> deserialize(readBytes(buff));
            default -> throw new IllegalStateException("unknown index value tag " + tag + " in the store file");
        };
    }

    private static void writeString(WriteBuffer buff, String s) {
        buff.putVarInt(s.length()).putStringData(s, s.length());
    }

    private static void writeBytes(WriteBuffer buff, byte[] bytes) {
        buff.putVarInt(bytes.length).put(bytes);
    }

    private static byte[] readBytes(ByteBuffer buff) {
        byte[] bytes = new byte[DataUtils.readVarInt(buff)];
        buff.get(bytes);
        return bytes;
    }

    static int memory(Object v) {
        if (v instanceof String s) {
            return 40 + 2 * s.length();
        } else if (v instanceof Document d) {
            int memory = 64;
            for (Map.Entry<String, Object> e : d.entrySet()) {
                memory += 32 + memory(e.getKey()) + memory(e.getValue());
            }
            return memory;
        } else if (v instanceof List<?> list) {
            int memory = 32;
            for (Object element : list) {
                memory += 8 + memory(element);
            }
            return memory;
        }
        return 32;
    }

    private static byte[] serialize(Object v) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(v);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store " + v.getClass().getName() + " in an index", e);
        }
        return bytes.toByteArray();
    }

    private static Object deserialize(byte[] bytes) {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            return in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot read an index value from the store file", e);
        }
    }
}
