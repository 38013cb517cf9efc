package dev.crucible.eval;

import dev.crucible.io.AtomicWrite;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Fetches a public task's data from its usual source into a task data directory laid out as
 * {@link Tasks} reads it. Only this runs at a user's explicit request: nothing else in Crucible
 * touches the network. A mirror (e.g. a local copy served over HTTP) can stand in for the hosts.
 */
public final class TaskDownload {
    private TaskDownload() {}

    /** One file: where it comes from, where it goes, and (for a zip) which member (its path's tail). */
    public record Source(String url, String target, String zipMember) {}

    public static final Map<String, List<Source>> SOURCES = sources();

    private static Map<String, List<Source>> sources() {
        Map<String, List<Source>> m = new LinkedHashMap<>();
        m.put("lambada_openai", List.of(new Source("https://openaipublic.blob.core.windows.net/gpt-2/data/lambada_test.jsonl", "lambada_openai/lambada_test.jsonl", null)));
        m.put("piqa", List.of(new Source("https://yonatanbisk.com/piqa/data/valid.jsonl", "piqa/valid.jsonl", null),
                new Source("https://yonatanbisk.com/piqa/data/valid-labels.lst", "piqa/valid-labels.lst", null)));
        m.put("hellaswag", List.of(new Source("https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_val.jsonl", "hellaswag/validation.jsonl", null)));
        String arc = "https://ai2-public-datasets.s3.amazonaws.com/arc/ARC-V1-Feb2018.zip";
        m.put("arc_easy", List.of(new Source(arc, "arc_easy/test.jsonl", "ARC-Easy/ARC-Easy-Test.jsonl")));
        m.put("arc_challenge", List.of(new Source(arc, "arc_challenge/test.jsonl", "ARC-Challenge/ARC-Challenge-Test.jsonl")));
        List<Source> blimp = new ArrayList<>();
        for (String uid : Blimp.PHENOMENON_OF_PARADIGM.keySet()) {
            blimp.add(new Source("https://raw.githubusercontent.com/alexwarstadt/blimp/master/data/" + uid + ".jsonl", "blimp/" + uid + ".jsonl", null));
        }
        m.put("blimp", blimp);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The URL to fetch: the source's, or with a mirror, mirror + "/" + host + path. */
    static URI resolve(String url, String mirror) {
        if (mirror == null) return URI.create(url);
        URI u = URI.create(url);
        return URI.create(mirror.replaceAll("/+$", "") + "/" + u.getHost() + u.getRawPath());
    }

    /** Downloads the task's files into dataDir (files already there are kept); returns the files written. */
    public static List<Path> download(String task, Path dataDir, String mirror, PrintStream log) throws IOException {
        List<Source> sources = SOURCES.get(task);
        if (sources == null) throw new IllegalArgumentException("no download for task '" + task + "' (available: " + String.join(", ", SOURCES.keySet()) + ")");
        HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(30)).build();
        List<Path> written = new ArrayList<>();
        Map<URI, Path> fetched = new LinkedHashMap<>(); // the ARC zip serves two tasks' files
        try {
            for (Source s : sources) {
                Path target = dataDir.resolve(s.target());
                if (Files.exists(target)) {
                    if (log != null) log.println("  have " + target);
                    continue;
                }
                URI uri = resolve(s.url(), mirror);
                Path body = fetched.get(uri);
                if (body == null) {
                    if (log != null) log.println("  fetching " + uri);
                    body = Files.createTempFile("crucible-download", ".part");
                    HttpResponse<Path> resp;
                    try {
                        resp = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).GET().build(), HttpResponse.BodyHandlers.ofFile(body));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("download of " + uri + " interrupted", e);
                    }
                    if (resp.statusCode() != 200) throw new IOException(uri + ": HTTP " + resp.statusCode());
                    fetched.put(uri, body);
                }
                Files.createDirectories(target.getParent());
                Path from = body;
                AtomicWrite.write(target, tmp -> {
                    if (s.zipMember() == null) Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
                    else extract(from, s.zipMember(), tmp, uri);
                    check(tmp, target);
                });
                written.add(target);
                if (log != null) log.println("  wrote " + target + " (" + Files.size(target) + " bytes)");
            }
        } finally {
            for (Path p : fetched.values()) Files.deleteIfExists(p);
        }
        return written;
    }

    private static void extract(Path zip, String member, Path out, URI from) throws IOException {
        try (ZipInputStream z = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
                if (e.getName().equals(member) || e.getName().endsWith("/" + member)) { // whatever top directory the archive has
                    Files.copy(z, out, StandardCopyOption.REPLACE_EXISTING);
                    return;
                }
            }
        }
        throw new IOException(from + ": the archive has no " + member);
    }

    /** A downloaded file must be what its reader expects: not empty, and JSON lines parse. */
    private static void check(Path tmp, Path target) throws IOException {
        if (Files.size(tmp) == 0) throw new IOException(target + ": downloaded file is empty");
        if (target.toString().endsWith(".jsonl")) {
            try (BufferedReader r = Files.newBufferedReader(tmp, StandardCharsets.UTF_8)) {
                String first = r.readLine();
                try {
                    new com.fasterxml.jackson.databind.ObjectMapper().readTree(first);
                } catch (IOException e) {
                    Files.deleteIfExists(tmp);
                    throw new IOException(target + ": the download is not JSON lines (first line: " + (first.length() > 80 ? first.substring(0, 80) + "..." : first) + ")");
                }
            }
        }
    }
}
