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
        try (ZipFile zf = new ZipFile(zip.toFile())) {
            List<? extends ZipEntry> entries = Collections.list(zf.entries()).stream()
                    .filter(e -> !e.isDirectory() && names.test(e.getName()))
                    .sorted(Comparator.comparing(ZipEntry::getName)).toList();
            long total = 0;
            for (ZipEntry e : entries) {
                if (total >= maxBytes) break;
                byte[] bytes;
                try (var in = zf.getInputStream(e)) {
                    bytes = in.readAllBytes();
                }
                out.add(new Document(e.getName(), bytes));
                total += bytes.length;
            }
        } catch (ZipException e) {
            throw new IOException(zip + ": not a readable zip archive (" + e.getMessage() + ")", e);
        }
        return out;
    }
}
