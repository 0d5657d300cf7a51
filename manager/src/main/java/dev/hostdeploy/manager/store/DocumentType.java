package dev.hostdeploy.manager.store;

import de.bwaldvogel.mongo.bson.Document;
import java.nio.ByteBuffer;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.ObjectDataType;

/**
 * How the embedded store keeps a collection's documents: in {@link IndexKeyType}'s compact tagged form
 * instead of the Java serialization H2's default type uses (which, after the index keys, was most of the
 * store's CPU: every commit rewrites the changed pages, every page read decodes them). Pages written by
 * the plain backend are still read, value by value, so there is nothing to migrate: a page changes to
 * this form when it is next written. The first byte is one H2's type never writes, so an older Manager
 * fails on such a page instead of misreading it. The map's keys (the _ids) keep H2's default type, whose
 * order is the collection's natural order.
 */
final class DocumentType extends BasicDataType<Document> {
    /** Never a first byte of H2's ObjectDataType (its tags are 0-119). */
    private static final byte FORMAT = (byte) 0xD0;
    /** One per map, as H2 does: it caches the last type it met. */
    private final ObjectDataType plain = new ObjectDataType();

    @Override
    public int getMemory(Document document) {
        return IndexKeyType.memory(document);
    }

    @Override
    public void write(WriteBuffer buff, Document document) {
        buff.put(FORMAT);
        IndexKeyType.writeValue(buff, document);
    }

    @Override
    public Document read(ByteBuffer buff) {
        if (buff.get(buff.position()) != FORMAT) {
            return (Document) plain.read(buff);
        }
        buff.get();
        return (Document) IndexKeyType.readValue(buff);
    }

    @Override
    public Document[] createStorage(int size) {
        return new Document[size];
    }
}
