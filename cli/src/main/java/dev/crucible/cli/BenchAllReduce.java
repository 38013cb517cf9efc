package dev.crucible.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.train.parallel.Replicas;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The gradient all-reduce of data-parallel training, timed on each model's gradient (one float per
 * parameter) as the trainer runs it: copy into the native buffer, MPI_Allreduce in place, copy back.
 * Reported as NCCL's tests report collectives: algorithm bandwidth (bytes / time) and bus bandwidth
 * (algorithm bandwidth · 2(n-1)/n, what each link carries in a ring all-reduce, comparable across n).
 */
@Command(name = "allreduce", mixinStandardHelpOptions = true,
        description = {"Time the gradient all-reduce of data-parallel training for each model's size; run it under mpirun "
                + "(mpirun -np 2 ./crucible bench allreduce). Rank 0 prints."})
final class BenchAllReduce implements Runnable {
    @Option(names = "--model", split = ",", defaultValue = "tiny,tiny-llama,gpt2-small", paramLabel = "PRESET",
            description = "Model presets whose gradient sizes are timed (default ${DEFAULT-VALUE}).")
    List<String> models;
    @Option(names = "--reps", defaultValue = "10", description = "Timed all-reduces per size, the median reported (default ${DEFAULT-VALUE}).")
    int reps;
    @Option(names = "--json", description = "End with one JSON line of the results.")
    boolean json;

    @Override
    public void run() {
        try (Replicas r = TrainCommand.joinJob()) {
            if (reps < 1) throw new UserError("--reps: must be >= 1, got " + reps);
            if (r.size() < 2) throw new UserError("bench allreduce: run it under mpirun with 2 or more processes (mpirun -np 2 ./crucible bench allreduce)");
            int n = r.size();
            if (r.writes()) System.out.printf(Locale.ROOT, "%s%n%-12s %12s %10s %10s %12s %12s%n", r, "model", "gradient", "median ms", "copy ms",
                    "algo GB/s", "bus GB/s");
            List<Map<String, Object>> rows = new ArrayList<>();
            for (String name : models) {
                long params = new ParamLayout(ModelConfig.preset(name)).size();
                float[] g = new float[Math.toIntExact(params)], staged = new float[g.length];
                Arrays.fill(g, 1f / n);
                double[] ms = new double[reps], copy = new double[reps];
                for (int i = -2; i < reps; i++) { // two untimed: the native buffer grows once, the transport warms up
                    r.barrier();
                    long t0 = System.nanoTime();
                    r.sum(g);
                    long t1 = System.nanoTime();
                    System.arraycopy(g, 0, staged, 0, g.length); // what the copies into and out of the native buffer cost on their own
                    System.arraycopy(staged, 0, g, 0, g.length);
                    long t2 = System.nanoTime();
                    if (i >= 0) {
                        ms[i] = (t1 - t0) / 1e6;
                        copy[i] = (t2 - t1) / 1e6;
                    }
                    Arrays.fill(g, 1f / n);
                }
                Arrays.sort(ms);
                Arrays.sort(copy);
                double med = ms[reps / 2], bytes = params * 4.0, algo = bytes / (med / 1e3) / 1e9;
                double bus = algo * 2 * (n - 1) / n;
                if (r.writes()) System.out.printf(Locale.ROOT, "%-12s %,9d MB %10.2f %10.2f %12.2f %12.2f%n", name, Math.round(bytes / 1e6), med, copy[reps / 2], algo, bus);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("model", name);
                row.put("bytes", (long) bytes);
                row.put("median_ms", med);
                row.put("copy_ms", copy[reps / 2]);
                row.put("algo_gb_s", algo);
                row.put("bus_gb_s", bus);
                rows.add(row);
            }
            if (json && r.writes()) {
                try {
                    System.out.println(new ObjectMapper().writeValueAsString(Map.of("ranks", n, "results", rows)));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}
