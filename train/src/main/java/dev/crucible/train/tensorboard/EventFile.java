package dev.crucible.train.tensorboard;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * A TensorBoard event file ({@code events.out.tfevents.<seconds>.<host>.<pid>.<purpose>}): TFRecord
 * framing (length, masked CRC-32C of the length, the record, masked CRC-32C of the record) around
 * {@code tensorflow.Event} messages with scalar, histogram and text summaries (the format
 * TensorBoard reads, and W&B and Aim import). Every record is flushed as it is written, so a live TensorBoard sees it and a
 * killed run loses at most the record being written (the reader drops a record cut short).
 */
public final class EventFile implements AutoCloseable {
    /** Event: wall_time 1, step 2, file_version 3, summary 5, session_log 7 (6 is the deprecated log_message). */
    private static final int WALL_TIME = 1, STEP = 2, FILE_VERSION = 3, SUMMARY = 5, SESSION_LOG = 7;
    /** Summary.value 1; Value: tag 1, simple_value 2, histo 5, tensor 8, metadata 9. */
    private static final int VALUE = 1, TAG = 1, SIMPLE_VALUE = 2, HISTO = 5, TENSOR = 8, METADATA = 9;
    private static final int MASK_DELTA = 0xa282ead8;

    private final Path file;
    private final OutputStream out;

    /** A new event file in dir (created if missing); purpose ends its name (train, eval). */
    public EventFile(Path dir, String purpose) throws IOException {
        Files.createDirectories(dir);
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        String name = "events.out.tfevents." + System.currentTimeMillis() / 1000 + "." + host + "." + ProcessHandle.current().pid() + "." + purpose;
        // a second file in the same second (a resume in the same process) gets .1, .2, ...: after the first in name order, as TensorBoard reads them
        Path f = dir.resolve(name);
        for (int k = 1; Files.exists(f); k++) f = dir.resolve(name + "." + k);
        file = f;
        out = new BufferedOutputStream(Files.newOutputStream(file, java.nio.file.StandardOpenOption.CREATE_NEW), 1 << 16);
        record(new Proto().float64(WALL_TIME, now()).string(FILE_VERSION, "brain.Event:2"));
    }

    public Path file() {
        return file;
    }

    private static double now() {
        return System.currentTimeMillis() / 1e3;
    }

    public void scalar(String tag, long step, double value) throws IOException {
        summary(step, new Proto().string(TAG, tag).float32(SIMPLE_VALUE, (float) value));
    }

    /**
     * A histogram of values[off, off + len): min, max, count, sum, sum of squares, and counts in the
     * buckets TensorFlow's writer uses (limits growing by 10% from 1e-12 on each side of zero), each
     * run of empty buckets merged into one, as it encodes them.
     */
    public void histogram(String tag, long step, float[] values, int off, int len) throws IOException {
        double[] limits = Buckets.LIMITS;
        double[] counts = new double[limits.length];
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0, sumSq = 0;
        for (int i = off; i < off + len; i++) {
            double v = values[i];
            if (v < min) min = v;
            if (v > max) max = v;
            sum += v;
            sumSq += v * v;
            counts[Buckets.index(v)]++;
        }
        if (len == 0) min = max = 0;
        int kept = 0;
        double[] keptLimits = new double[limits.length], keptCounts = new double[limits.length];
        for (int i = 0; i < limits.length; ) { // a run of empty buckets becomes one, at the run's last limit
            double end = limits[i], count = counts[i++];
            if (count <= 0) {
                while (i < limits.length && counts[i] <= 0) end = limits[i++];
            }
            keptLimits[kept] = end;
            keptCounts[kept++] = count;
        }
        Proto h = new Proto().float64(1, min).float64(2, max).float64(3, len).float64(4, sum).float64(5, sumSq)
                .packedDoubles(6, Arrays.copyOf(keptLimits, kept)).packedDoubles(7, Arrays.copyOf(keptCounts, kept));
        summary(step, new Proto().string(TAG, tag).message(HISTO, h));
    }

    /** A text summary (Markdown in TensorBoard's text tab): a string tensor with the text plugin's metadata. */
    public void text(String tag, long step, String text) throws IOException {
        Proto tensor = new Proto().int64(1, 7) // dtype DT_STRING
                .message(2, new Proto()) // a scalar's shape
                .string(8, text); // string_val
        Proto metadata = new Proto().message(1, new Proto().string(1, "text")); // plugin_data.plugin_name
        summary(step, new Proto().string(TAG, tag).message(TENSOR, tensor).message(METADATA, metadata));
    }

    /**
     * SessionLog START at step: TensorBoard discards what earlier files logged at this step and after,
     * which is what a resumed run needs (the interrupted process may have logged past its checkpoint).
     */
    public void restartAt(long step) throws IOException {
        record(new Proto().float64(WALL_TIME, now()).int64(STEP, step).message(SESSION_LOG, new Proto().int64(1, 1))); // status START
    }

    private void summary(long step, Proto value) throws IOException {
        record(new Proto().float64(WALL_TIME, now()).int64(STEP, step).message(SUMMARY, new Proto().message(VALUE, value)));
    }

    private void record(Proto event) throws IOException {
        byte[] data = event.bytes();
        byte[] len = new byte[8];
        for (int i = 0; i < 8; i++) len[i] = (byte) ((long) data.length >>> (8 * i));
        out.write(len);
        writeInt(maskedCrc(len, len.length));
        out.write(data);
        writeInt(maskedCrc(data, data.length));
        out.flush();
    }

    private void writeInt(int v) throws IOException {
        for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
    }

    /** TFRecord's masked CRC-32C: rotated right by 15 bits, plus a constant. */
    static int maskedCrc(byte[] b, int len) {
        CRC32C crc = new CRC32C();
        crc.update(b, 0, len);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + MASK_DELTA;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** TensorBoard's default histogram buckets (TensorFlow's histogram.cc): ±1e-12·1.1^k up to 1e20, ±DBL_MAX and 0. */
    static final class Buckets {
        static final double[] LIMITS;

        static {
            java.util.List<Double> pos = new java.util.ArrayList<>();
            for (double v = 1e-12; v < 1e20; v *= 1.1) pos.add(v);
            pos.add(Double.MAX_VALUE);
            int n = pos.size();
            LIMITS = new double[2 * n + 1];
            for (int i = 0; i < n; i++) {
                LIMITS[i] = -pos.get(n - 1 - i);
                LIMITS[n + 1 + i] = pos.get(i);
            }
        }

        /** The first bucket whose limit is above v (a bucket holds [previous limit, limit)), as upper_bound finds it. */
        static int index(double v) {
            int i = Arrays.binarySearch(LIMITS, v);
            return Math.min(LIMITS.length - 1, i >= 0 ? i + 1 : -i - 1);
        }
    }
}
