package dev.crucible.eval;

import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import java.io.IOException;
import java.nio.file.Path;

/** Checkpoints for tests: a small byte-level GPT-2 (no tokenizer.json) of random weights. */
public final class TestCheckpoints {
    private TestCheckpoints() {}

    public static final ModelConfig BYTE_LEVEL = ModelConfig.gpt2(256, 32, 2, 2, 32);

    /** Random weights drawn with seed, scaled up for sharp, varied predictions. */
    public static Path byteLevel(Path dir, int seed) throws IOException {
        return byteLevel(dir, seed, BYTE_LEVEL);
    }

    /** The same for another byte-level (vocabulary 256) config, e.g. a longer context. */
    public static Path byteLevel(Path dir, int seed, ModelConfig config) throws IOException {
        ParamLayout l = new ParamLayout(config);
        float[] p = new float[l.size()];
        l.initialize(p, seed);
        for (int i = 0; i < p.length; i++) p[i] *= 10;
        HfCheckpoint.write(dir, config, p, null);
        return dir;
    }
}
