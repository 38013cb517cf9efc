package dev.crucible.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real download code against a local HTTP server that mirrors the hosts' paths. */
class TaskDownloadTest {
    @TempDir
    Path dir;
    HttpServer server;
    Path served;
    int requests;

    @BeforeEach
    void serve() throws IOException {
        served = dir.resolve("www");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            requests++;
            Path f = served.resolve(ex.getRequestURI().getPath().substring(1));
            byte[] body = Files.isRegularFile(f) ? Files.readAllBytes(f) : "not found".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(Files.isRegularFile(f) ? 200 : 404, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    String mirror() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void put(String path, byte[] content) throws IOException {
        Path f = served.resolve(path);
        Files.createDirectories(f.getParent());
        Files.write(f, content);
    }

    @Test
    void fetchesFilesAndZipMembersIntoTheTaskLayout() throws IOException {
        put("openaipublic.blob.core.windows.net/gpt-2/data/lambada_test.jsonl", "{\"text\": \"she opened the door and saw her friend\"}\n".getBytes(StandardCharsets.UTF_8));
        java.io.ByteArrayOutputStream zip = new java.io.ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(zip)) {
            for (String part : List.of("Easy", "Challenge")) {
                z.putNextEntry(new ZipEntry("ARC-V1-Feb2018-2/ARC-" + part + "/ARC-" + part + "-Test.jsonl"));
                z.write(("{\"question\": {\"stem\": \"Which is a gas (" + part + ")?\", \"choices\": [{\"text\": \"ice\", \"label\": \"A\"}, {\"text\": \"steam\", \"label\": \"B\"}]}, \"answerKey\": \"B\"}\n")
                        .getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
        put("ai2-public-datasets.s3.amazonaws.com/arc/ARC-V1-Feb2018.zip", zip.toByteArray());
        Path data = dir.resolve("data");
        assertEquals(List.of(data.resolve("lambada_openai/lambada_test.jsonl")), TaskDownload.download("lambada_openai", data, mirror(), null));
        TaskDownload.download("arc_easy", data, mirror(), null);
        TaskDownload.download("arc_challenge", data, mirror(), null);
        List<Task> tasks = Tasks.load(data, List.of("lambada_openai", "arc_easy", "arc_challenge"));
        assertEquals(3, tasks.size());
        assertTrue(((MultipleChoice) tasks.get(2)).questions().getFirst().prompt().contains("(Challenge)"));
        int before = requests;
        assertEquals(List.of(), TaskDownload.download("arc_easy", data, mirror(), null)); // already there: nothing fetched
        assertEquals(before, requests);
    }

    @Test
    void failuresSayWhatAndLeaveNothingHalfWritten() throws IOException {
        Path data = dir.resolve("data");
        IOException e = assertThrows(IOException.class, () -> TaskDownload.download("hellaswag", data, mirror(), null));
        assertTrue(e.getMessage().endsWith("hellaswag_val.jsonl: HTTP 404"), e.getMessage());
        put("raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_val.jsonl", "<html>rate limited</html>\n".getBytes(StandardCharsets.UTF_8));
        e = assertThrows(IOException.class, () -> TaskDownload.download("hellaswag", data, mirror(), null));
        assertTrue(e.getMessage().contains("the download is not JSON lines"), e.getMessage());
        assertTrue(!Files.exists(data.resolve("hellaswag/validation.jsonl")) && !Files.exists(data.resolve("hellaswag/validation.jsonl.part")));
        assertThrows(IllegalArgumentException.class, () -> TaskDownload.download("mmlu", data, mirror(), null));
        assertEquals(67, TaskDownload.SOURCES.get("blimp").size());
    }
}
