package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * What each layer does over training, from diagnostics.jsonl: heat maps of each layer's contribution
 * (the angular distance between its input and output hidden states; a layer near 0 barely changes
 * the residual stream, the symptom Mix-LN and LayerNorm Scaling address) and of its output's excess
 * kurtosis (outlier features, which make 4-bit quantisation hard), over layers and diagnosed steps,
 * with sentences saying what the last step shows.
 */
final class LayersSection implements Section.PerRun {
    static final int WIDTH = 900, HEIGHT = 300;

    @Override
    public void write(StringBuilder h, Run r) {
        if (r.layers().isEmpty()) return;
        TreeSet<Long> steps = new TreeSet<>();
        int layers = 0;
        for (Run.LayerRow row : r.layers()) {
            steps.add(row.step());
            layers = Math.max(layers, row.layer() + 1);
        }
        h.append("<h3>Layers</h3>\n<ul>");
        for (String s : sentences(r, steps.last(), layers)) h.append("<li>").append(esc(s)).append("</li>");
        h.append("</ul>\n");
        map(h, r, steps, layers, "Layer contribution: angular distance between a layer's input and output", Run.LayerRow::angularDistance);
        map(h, r, steps, layers, "Excess kurtosis of each layer's output (ReLU, averaged over tokens)", Run.LayerRow::kurtosis);
    }

    private static void map(StringBuilder h, Run r, TreeSet<Long> steps, int layers, String title, ToDoubleFunction<Run.LayerRow> metric) {
        Long[] cols = steps.toArray(Long[]::new);
        double[][] v = new double[layers][cols.length];
        for (double[] row : v) java.util.Arrays.fill(row, Double.NaN);
        java.util.Map<Long, Integer> col = new TreeMap<>();
        for (int i = 0; i < cols.length; i++) col.put(cols[i], i);
        for (Run.LayerRow row : r.layers()) v[row.layer()][col.get(row.step())] = metric.applyAsDouble(row);
        String[] rowNames = new String[layers], colNames = new String[cols.length];
        for (int l = 0; l < layers; l++) rowNames[l] = "layer " + l;
        for (int i = 0; i < cols.length; i++) colNames[i] = Long.toString(cols[i]);
        byte[] png = Heatmap.png(title, "layers", rowNames, "step", colNames, v, WIDTH, HEIGHT);
        h.append("<figure><img alt=\"").append(esc(title)).append("\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png)).append("\"><figcaption>")
                .append(esc(title)).append(", per layer (rows) and diagnosed step (columns).</figcaption></figure>\n");
    }

    /** What the last diagnosed step shows: which layers contribute most and least, and where outliers are. */
    static List<String> sentences(Run r, long last, int layers) {
        double[] ang = new double[layers], kurt = new double[layers];
        for (Run.LayerRow row : r.layers()) {
            if (row.step() != last) continue;
            ang[row.layer()] = row.angularDistance();
            kurt[row.layer()] = row.kurtosis();
        }
        int most = 0, least = 0, peak = 0;
        for (int l = 1; l < layers; l++) {
            if (ang[l] > ang[most]) most = l;
            if (ang[l] < ang[least]) least = l;
            if (kurt[l] > kurt[peak]) peak = l;
        }
        String a = String.format(Locale.ROOT, "At step %d, layer %d changes the residual stream most (angular distance %.3f) and layer %d least (%.3f).",
                last, most, ang[most], least, ang[least]);
        int half = layers / 2;
        if (half >= 2) { // layer 0, which turns embeddings into a residual stream, always moves most: compare the rest
            double shallow = 0, deep = 0;
            for (int l = 1; l < half; l++) shallow += ang[l] / (half - 1);
            for (int l = half; l < layers; l++) deep += ang[l] / (layers - half);
            a += String.format(Locale.ROOT, " The deeper half averages %.3f against %.3f for the shallower half without layer 0%s", deep, shallow,
                    deep < 0.5 * shallow ? ": the deep layers contribute little (the curse of depth)." : ".");
        }
        String k = String.format(Locale.ROOT, "The output of layer %d is the most heavy-tailed (excess kurtosis %.2f)%s.", peak, kurt[peak],
                kurt[peak] > 10 ? ", a sign of outlier features that make 4-bit quantisation hard" : "");
        return List.of(a, k);
    }
}
