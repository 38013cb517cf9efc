package dev.crucible.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/** Documents stored as files in a zip archive (e.g. the JDK's lib/src.zip), in name order. */
public final class ZipDocuments {
    private ZipDocuments() {}

    public record Document(String name, byte[] bytes) {}

    /** Reads the entries whose names pass the filter, in name order, until maxBytes have been read. */
    public static List<Document> read(Path zip, Predicate<String> names, long maxBytes) throws IOException {
        List<Document> out = new ArrayList<>();
        long[] total = {0};
        forEach(zip, names, d -> {
            if (total[0] >= maxBytes) return false;
            out.add(d);
            total[0] += d.bytes().length;
            return true;
        });
        return out;
    }

    /** Hands the entries whose names pass the filter to the visitor, in name order, one at a time, until it returns false. */
    public static void forEach(Path zip, Predicate<String> names, Visitor visitor) throws IOException {
        forEach(zip, zip.toString(), names, visitor);
    }

    /** As above, naming the archive as name in errors (an engine's local copy of a file from elsewhere). */
    public static void forEach(Path zip, String name, Predicate<String> names, Visitor visitor) throws IOException {
        ZipFile opened;
        try {
            opened = new ZipFile(zip.toFile());
        } catch (ZipException e) {
            throw new IOException(name + ": not a readable zip archive (" + e.getMessage() + ")", e);
        }
        try (ZipFile zf = opened) {
            List<? extends ZipEntry> entries = Collections.list(zf.entries()).stream()
                    .filter(e -> !e.isDirectory() && names.test(e.getName()))
                    .sorted(Comparator.comparing(ZipEntry::getName)).toList();
            for (ZipEntry e : entries) {
                if (!visitor.visit(new Document(e.getName(), readEntry(name, zf, e)))) return;
            }
        }
    }

    /** The entry's bytes; damaged data (Inflater's ZipException, EOFException) named with the archive, the entry and how far it got. */
    private static byte[] readEntry(String zip, ZipFile zf, ZipEntry e) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(e.getSize() > 0 && e.getSize() < Integer.MAX_VALUE ? (int) e.getSize() : 8192);
        try (var in = zf.getInputStream(e)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) != -1; ) out.write(buf, 0, n);
        } catch (IOException x) {
            throw new IOException(zip + "!" + e.getName() + ": damaged zip entry after " + out.size() + " of " + e.getSize()
                    + " bytes (" + x.getMessage() + "); the entries before it were read", x);
        }
        return out.toByteArray();
    }

    public interface Visitor {
        boolean visit(Document d) throws IOException;
    }
}
