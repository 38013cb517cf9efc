package dev.crucible.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The built-in tasks, found under a data directory laid out as ../shared/data is. */
public final class Tasks {
    private Tasks() {}

    public static final List<String> NAMES = List.of("blimp", "blimp_<paradigm>", "lambada_openai", "piqa", "hellaswag", "arc_easy", "arc_challenge",
            "wikitext", "induction", "probes:<heldout-dir>", "<tasks.yaml>");

    /**
     * Resolves task names: "blimp" (all 67 paradigms), "blimp_<UID>" (one), "lambada" / "lambada_openai", "piqa",
     * "hellaswag" (hellaswag/validation.jsonl), "arc_easy" / "arc_challenge" (arc_easy/test.jsonl, arc_challenge/test.jsonl), "wikitext" (bits
     * per byte), "induction" (built in), "probes:DIR" (held-out probes, {@link HeldoutProbes}; DIR is not under dataDir),
     * and FILE.yaml (tasks declared in YAML, {@link TaskFile}).
     */
    public static List<Task> load(Path dataDir, List<String> names) throws IOException {
        List<Task> out = new ArrayList<>();
        for (String name : names) {
            switch (name) {
                case "blimp" -> {
                    Path dir = needData(dataDir, name).resolve("blimp");
                    if (!Files.isDirectory(dir)) throw new IOException(dir + ": BLiMP directory not found (blimp/*.jsonl)");
                    try (Stream<Path> s = Files.list(dir)) {
                        for (Path f : s.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) out.add(Blimp.load(f));
                    }
                }
                case "lambada", "lambada_openai" -> out.add(Lambada.load(require(needData(dataDir, name).resolve("lambada_openai/lambada_test.jsonl"))));
                case "induction" -> out.add(new InductionProbe(50, 1234)); // built in: needs no data
                case "piqa" -> out.add(MultipleChoice.piqa(require(needData(dataDir, name).resolve("piqa/valid.jsonl")), require(needData(dataDir, name).resolve("piqa/valid-labels.lst"))));
                case "hellaswag" -> out.add(MultipleChoice.hellaswag(require(needData(dataDir, name).resolve("hellaswag/validation.jsonl"))));
                case "arc_easy" -> out.add(MultipleChoice.arc("arc_easy", require(needData(dataDir, name).resolve("arc_easy/test.jsonl"))));
                case "arc_challenge" -> out.add(MultipleChoice.arc("arc_challenge", require(needData(dataDir, name).resolve("arc_challenge/test.jsonl"))));
                case "wikitext" -> out.add(RollingPerplexity.loadLines("wikitext", require(needData(dataDir, name).resolve("llm360_wikitext/wikitext.txt"))));
                default -> {
                    if (name.startsWith("probes:")) out.addAll(HeldoutProbes.load(Path.of(name.substring(7))));
                    else if (name.endsWith(".yaml") || name.endsWith(".yml")) out.addAll(TaskFile.load(Path.of(name)));
                    else if (name.startsWith("blimp_")) out.add(Blimp.load(require(needData(dataDir, name).resolve("blimp/" + name.substring(6) + ".jsonl"))));
                    else throw new IOException("unknown task '" + name + "'; known: " + String.join(", ", NAMES));
                }
            }
        }
        return out;
    }

    private static Path needData(Path dataDir, String task) throws IOException {
        if (dataDir == null) throw new IOException("task " + task + " needs the task data directory (--data, laid out as ../shared/data)");
        return dataDir;
    }

    private static Path require(Path p) throws IOException {
        if (!Files.isRegularFile(p)) throw new IOException(p + ": task data not found");
        return p;
    }
}
