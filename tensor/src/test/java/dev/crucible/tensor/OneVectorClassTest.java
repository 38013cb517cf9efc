package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every float vector in the process is of {@link Cpu#SPECIES}. A second FloatVector class (a narrower
 * species for a copy or a widening) makes the type profiles of the Vector API's shared methods
 * polymorphic, and C2 then compiles some kernels without their intrinsics, in some runs and not
 * others: GEMM's packing allocated a boxed vector per copy, 480 MB per Muon step (docs/benchmarks.md,
 * "A second vector class"). No run-time check can see which vector classes are loaded, so the
 * production sources are read for the ways of making one.
 */
class OneVectorClassTest {
    /**
     * A species of a fixed shape (of any element type: its conversions to float keep the shape) or of
     * another shape than the preferred species' (S, Cpu.SPECIES), or a change of shape.
     */
    private static final Pattern ANOTHER_SPECIES = Pattern.compile(
            "\\w+Vector\\.SPECIES_(?!PREFERRED\\b)\\w+|VectorSpecies\\.of\\((?![^)]*\\b(?:S|SPECIES)\\.vectorShape\\(\\))|VectorSpecies\\.ofLargestShape|VectorShape\\.forBitSize|VectorShape\\.S_\\w+"
                    + "|\\.withShape\\(|\\.withLanes\\(|\\.castShape\\(|\\.reinterpretShape\\(");

    @Test
    void noSourceMakesAFloatVectorOfAnotherSpecies() throws IOException {
        Path repository = Path.of("").toAbsolutePath().getParent(); // tests run in the module's directory
        List<Path> sources = new ArrayList<>();
        try (Stream<Path> modules = Files.list(repository)) {
            for (Path main : modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList()) {
                try (Stream<Path> files = Files.walk(main)) {
                    files.filter(p -> p.toString().endsWith(".java")).forEach(sources::add);
                }
            }
        }
        assertTrue(sources.stream().anyMatch(p -> p.endsWith("dev/crucible/tensor/Gemm.java")), "the sources were not found under " + repository);
        List<String> offenders = new ArrayList<>();
        for (Path source : sources) {
            List<String> lines;
            try {
                lines = Files.readAllLines(source);
            } catch (IOException e) {
                throw new UncheckedIOException(source.toString(), e);
            }
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.startsWith("*") || line.startsWith("//") || line.startsWith("/*")) continue; // comments may name them
                if (ANOTHER_SPECIES.matcher(line).find()) offenders.add(repository.relativize(source) + ":" + (i + 1) + ": " + line);
            }
        }
        assertEquals(List.of(), offenders, "float vectors of a species other than Cpu.SPECIES");
    }
}
