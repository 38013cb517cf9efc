package dev.crucible.train;

import dev.crucible.train.tensorboard.EventFile;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.JsonlTable;
import dev.crucible.io.AtomicWrite;
import dev.crucible.model.LayerStats;
import dev.crucible.model.Model;
import dev.crucible.model.ParamLayout;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * diagnostics.jsonl: per layer and diagnosed step, the gradient norm (before clipping), the last
 * update's size relative to the weights, the angular distance between the layer's input and output
 * hidden states (how much the layer still changes the residual stream) and the excess kurtosis of
 * its output (outlier features). The hidden-state measures read the model's last forward: the last
 * validation batch when the run validates at that step (it does at every checkpoint), else the step's
 * last micro-batch. The last layer's output is taken before the final norm (the OSP script's last
 * hidden state is after it), and the embedding output is not recorded.
 */
final class Diagnostics implements AutoCloseable {
    static final String FILE = "diagnostics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;
    private long nanos;

    private final EventFile events;

    /** Rows also go to TensorBoard, as scalars diagnostics/MEASURE/layer_NN. */
    Diagnostics(Path run, EventFile events) throws IOException {
        out = Files.newBufferedWriter(run.resolve(FILE), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        this.events = events;
    }

    /** One row per layer for this step; before: the parameters before the step's update. */
    void write(int step, long tokens, Model model, float[] before) throws IOException {
        long t0 = System.nanoTime();
        ParamLayout layout = model.layout();
        int rows = model.lastRows(), d = model.config().dModel();
        float[] in = model.hiddenStates(0);
        for (int l = 0; l < model.config().nLayer(); l++) {
            float[] outStates = model.hiddenStates(l + 1);
            List<ParamLayout.Tensor> tensors = layout.layerTensors(l);
            double weights = Math.sqrt(LayerStats.squaredNorm(model.params, tensors));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("step", step);
            row.put("tokens", tokens);
            row.put("layer", l);
            row.put("grad_norm", Math.sqrt(LayerStats.squaredNorm(model.grads, tensors)));
            row.put("update_ratio", weights > 0 ? Math.sqrt(LayerStats.squaredDistance(model.params, before, tensors)) / weights : 0.0);
            row.put("angular_distance", LayerStats.angularDistance(in, outStates, rows, d));
            row.put("kurtosis", LayerStats.excessKurtosis(outStates, rows, d));
            out.write(JSON.writeValueAsString(row));
            out.newLine();
            for (String k : List.of("grad_norm", "update_ratio", "angular_distance", "kurtosis")) {
                events.scalar(String.format(java.util.Locale.ROOT, "diagnostics/%s/layer_%02d", k, l), step, ((Number) row.get(k)).doubleValue());
            }
            in = outStates;
        }
        out.flush();
        nanos += System.nanoTime() - t0;
    }

    /** Time spent writing diagnostics so far. */
    double seconds() {
        return nanos / 1e9;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** Keeps the rows of steps up to the resume point (as {@link MetricsLog#truncate} does). */
    static void truncate(Path run, int step) throws IOException {
        Path file = run.resolve(FILE);
        if (!Files.exists(file)) return;
        List<String> keep = new ArrayList<>();
        for (JsonlTable.Row r : JsonlTable.read(file)) if (r.value().path("step").asInt(Integer.MAX_VALUE) <= step) keep.add(r.text());
        AtomicWrite.writeLines(file, keep);
    }
}
