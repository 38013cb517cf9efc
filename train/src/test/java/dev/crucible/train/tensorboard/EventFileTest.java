package dev.crucible.train.tensorboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.train.ConfigLoader;
import dev.crucible.train.RunConfig;
import dev.crucible.train.Trainer;
import dev.crucible.train.TrainerTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Event files read back by a decoder of the test's own (TFRecord framing, CRC-32C bit by bit, protobuf wire format). */
class EventFileTest {
    @TempDir
    Path dir;

    /** One decoded protobuf message: field number to its values (Long for varints and fixed64, Integer for fixed32, byte[] otherwise). */
    record Message(Map<Integer, List<Object>> fields) {
        Object one(int f) {
            List<Object> v = fields.get(f);
            return v == null ? null : v.getFirst();
        }

        Message message(int f) {
            return decode((byte[]) one(f));
        }

        String string(int f) {
            return new String((byte[]) one(f), StandardCharsets.UTF_8);
        }

        double float64(int f) {
            return Double.longBitsToDouble((Long) one(f));
        }

        double[] packedDoubles(int f) {
            ByteBuffer b = ByteBuffer.wrap((byte[]) one(f)).order(ByteOrder.LITTLE_ENDIAN);
            double[] d = new double[b.remaining() / 8];
            for (int i = 0; i < d.length; i++) d[i] = b.getDouble();
            return d;
        }
    }

    static Message decode(byte[] b) {
        Map<Integer, List<Object>> m = new LinkedHashMap<>();
        int[] at = {0};
        while (at[0] < b.length) {
            long key = varint(b, at);
            int field = (int) (key >>> 3), wire = (int) (key & 7);
            Object v = switch (wire) {
                case 0 -> varint(b, at);
                case 1 -> {
                    long x = ByteBuffer.wrap(b, at[0], 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                    at[0] += 8;
                    yield x;
                }
                case 5 -> {
                    int x = ByteBuffer.wrap(b, at[0], 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
                    at[0] += 4;
                    yield x;
                }
                case 2 -> {
                    int len = (int) varint(b, at);
                    byte[] x = java.util.Arrays.copyOfRange(b, at[0], at[0] + len);
                    at[0] += len;
                    yield x;
                }
                default -> throw new AssertionError("wire type " + wire);
            };
            m.computeIfAbsent(field, k -> new ArrayList<>()).add(v);
        }
        return new Message(m);
    }

    static long varint(byte[] b, int[] at) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            int x = b[at[0]++] & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if (x < 0x80) return v;
        }
    }

    /** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), one bit at a time, masked as TFRecord masks it. */
    static int maskedCrc(byte[] b, int off, int len) {
        int crc = ~0;
        for (int i = off; i < off + len; i++) {
            crc ^= b[i] & 0xFF;
            for (int k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82F63B78 & -(crc & 1));
        }
        crc = ~crc;
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    /** Every event of a file, each record's length and data checked against their CRCs. */
    static List<Message> events(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        List<Message> out = new ArrayList<>();
        while (buf.hasRemaining()) {
            int start = buf.position();
            long len = buf.getLong();
            assertEquals(maskedCrc(b, start, 8), buf.getInt(), file + ": the length's CRC at byte " + start);
            int dataAt = buf.position();
            buf.position(dataAt + (int) len);
            assertEquals(maskedCrc(b, dataAt, (int) len), buf.getInt(), file + ": the record's CRC at byte " + dataAt);
            out.add(decode(java.util.Arrays.copyOfRange(b, dataAt, dataAt + (int) len)));
        }
        return out;
    }

    /** The summary value of an event (Event.summary = 5, Summary.value = 1), or null. */
    static Message value(Message event) {
        return event.one(5) == null ? null : event.message(5).message(1);
    }

    @Test
    void everyKindOfEventReadsBack() throws IOException {
        Path file;
        try (EventFile f = new EventFile(dir, "test")) {
            f.scalar("loss", 3, 2.5);
            f.histogram("weights/h.0.attn", 4, new float[] {-1f, 0f, 0f, 0.5f, 3f}, 0, 5);
            f.text("samples", 5, "the *first* sample");
            f.restartAt(6);
            file = f.file();
        }
        assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."), file.toString());
        List<Message> ev = events(file);
        assertEquals(5, ev.size());
        assertEquals("brain.Event:2", ev.get(0).string(3));
        assertTrue(ev.get(0).float64(1) > 1.7e9, "wall time in seconds");

        assertEquals(3L, ev.get(1).one(2));
        Message scalar = value(ev.get(1));
        assertEquals("loss", scalar.string(1));
        assertEquals(2.5f, Float.intBitsToFloat((Integer) scalar.one(2)));

        Message histo = value(ev.get(2)).message(5);
        assertEquals(-1.0, histo.float64(1));
        assertEquals(3.0, histo.float64(2));
        assertEquals(5.0, histo.float64(3));
        assertEquals(2.5, histo.float64(4));
        assertEquals(1 + 0.25 + 9, histo.float64(5), 1e-12);
        double[] limits = histo.packedDoubles(6), counts = histo.packedDoubles(7);
        assertEquals(limits.length, counts.length);
        assertEquals(5.0, java.util.Arrays.stream(counts).sum());
        for (int i = 1; i < limits.length; i++) assertTrue(limits[i] > limits[i - 1], "limits ascend");
        for (double[] vc : new double[][] {{-1, 1}, {0, 2}, {0.5, 1}, {3, 1}}) { // each value in the bucket [previous limit, limit)
            int k = 0;
            while (!(vc[0] < limits[k])) k++;
            assertEquals(vc[1], counts[k], "the bucket of " + vc[0]);
        }

        Message text = value(ev.get(3));
        assertEquals("samples", text.string(1));
        assertEquals(7L, text.message(8).one(1), "DT_STRING");
        assertEquals("the *first* sample", text.message(8).string(8));
        assertEquals("text", text.message(9).message(1).string(1));

        assertEquals(6L, ev.get(4).one(2));
        assertEquals(null, ev.get(4).one(6), "not the deprecated log_message");
        assertEquals(1L, ev.get(4).message(7).one(1), "Event.session_log (7): SessionLog.status START (1)");
    }

    /** A run's scalars are its metrics.jsonl rows; checkpoints add every tensor's histograms; a resume restarts TensorBoard at its first step. */
    @Test
    void aTrainingRunLogsItsMetricsAndCheckpointsAndARestart() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < 20_000; i++) sb.append("events ").append(i % 11).append(" for tensorboard. ");
        TrainerTest.byteShards(sb.toString().getBytes(StandardCharsets.UTF_8), dir.resolve("train.bin"), dir.resolve("val.bin"));
        String cfg = """
                model: {style: gpt2, vocab_size: 256, context_length: 16, n_layer: 1, n_head: 2, d_model: 16}
                data: {train: train.bin, val: val.bin}
                training: {seq_len: 16, micro_batch: 2, steps: 4, seed: 1, threads: 1}
                optimizer: {lr: 3.0e-3}
                eval: {every: 2, batches: 1}
                checkpoint: {every: 4}
                diagnostics: {every: 2}
                log: {every: 1}
                out: run
                """;
        Path yaml = dir.resolve("run.yaml");
        Files.writeString(yaml, cfg);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Trainer.start(ConfigLoader.load(yaml, RunConfig.class), dir, quiet);
        Path run = dir.resolve("run");
        Files.writeString(yaml, cfg.replace("steps: 4", "steps: 6"));
        Trainer.resume(run, ConfigLoader.load(yaml, RunConfig.class), dir, true, quiet);

        List<Path> files;
        try (Stream<Path> s = Files.list(run)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).sorted().toList();
        }
        assertEquals(2, files.size(), files.toString());
        Map<String, Double> scalars = new LinkedHashMap<>(); // tag@step -> value, later files overriding
        Map<String, Double> histogramCounts = new LinkedHashMap<>();
        List<Long> restarts = new ArrayList<>();
        for (Path f : files) {
            for (Message e : events(f)) {
                if (e.one(7) != null) restarts.add((Long) e.one(2)); // Event.session_log
                Message v = value(e);
                if (v == null) continue;
                String tag = v.string(1) + "@" + e.one(2);
                if (v.one(2) != null) scalars.put(tag, (double) Float.intBitsToFloat((Integer) v.one(2)));
                if (v.one(5) != null) histogramCounts.put(tag, v.message(5).float64(3));
            }
        }
        assertEquals(List.of(5L), restarts, "the resumed process restarts TensorBoard after the step-4 checkpoint");
        ObjectMapper json = new ObjectMapper();
        int rows = 0;
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode row = json.readTree(line);
            for (var it = row.fields(); it.hasNext(); ) {
                var f = it.next();
                if (f.getKey().equals("step") || !f.getValue().isNumber()) continue;
                String tag = f.getKey() + "@" + row.get("step").asLong();
                assertTrue(scalars.containsKey(tag), tag + " in " + scalars.keySet());
                assertEquals((float) f.getValue().asDouble(), scalars.get(tag).floatValue(), tag);
            }
            rows++;
        }
        assertEquals(7, rows, "steps 0 (validation) to 6");
        assertTrue(scalars.containsKey("diagnostics/grad_norm/layer_00@2") && scalars.containsKey("diagnostics/kurtosis/layer_00@6"), scalars.keySet().toString());
        // every tensor's weights and gradients at both checkpoints, each histogram counting the tensor's elements
        String wte = histogramCounts.keySet().stream().filter(k -> k.startsWith("weights/") && k.endsWith("wte.weight@4")).findFirst().orElseThrow();
        assertEquals(256.0 * 16, histogramCounts.get(wte));
        assertEquals(256.0 * 16, histogramCounts.get(wte.replace("weights/", "gradients/").replace("@4", "@6")));
        assertTrue(histogramCounts.keySet().stream().filter(k -> k.startsWith("weights/") && k.endsWith("@4")).count() >= 10, histogramCounts.keySet().toString());
    }
}
