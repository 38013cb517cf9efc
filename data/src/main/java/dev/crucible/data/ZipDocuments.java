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
        try (ZipFile zf = new ZipFile(zip.toFile())) {
            List<? extends ZipEntry> entries = Collections.list(zf.entries()).stream()
                    .filter(e -> !e.isDirectory() && names.test(e.getName()))
                    .sorted(Comparator.comparing(ZipEntry::getName)).toList();
            for (ZipEntry e : entries) {
                byte[] bytes;
                try (var in = zf.getInputStream(e)) {
                    bytes = in.readAllBytes();
                }
                if (!visitor.visit(new Document(e.getName(), bytes))) return;
            }
        } catch (ZipException e) {
            throw new IOException(zip + ": not a readable zip archive (" + e.getMessage() + ")", e);
        }
    }

    public interface Visitor {
        boolean visit(Document d) throws IOException;
    }
}
