package dev.crucible.data.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a model directory turns text into tokens: its tokenizer.json (byte-level BPE), or raw UTF-8
 * bytes for a 256-token vocabulary without one (as `crucible demo` trains).
 */
public final class TextEncoding {
    private final BpeTokenizer bpe;

    private TextEncoding(BpeTokenizer bpe) {
        this.bpe = bpe;
    }

    public static TextEncoding forModel(Path modelDir, int vocabSize) throws IOException {
        Path tok = modelDir.resolve("tokenizer.json");
        if (Files.isRegularFile(tok)) {
            BpeTokenizer t = TokenizerJson.read(tok);
            if (t.vocabSize() > vocabSize) throw new IOException(tok + ": " + t.vocabSize() + " tokens, more than the model's vocabulary of " + vocabSize);
            return new TextEncoding(t);
        }
        if (vocabSize == 256) return new TextEncoding(null);
        throw new IOException(modelDir + ": no tokenizer.json, and a vocabulary of " + vocabSize + " is not byte-level (256)");
    }

    /** Text to tokens; special token strings are recognised. */
    public int[] encode(String text) {
        if (bpe != null) return bpe.encode(text, true);
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) out[i] = b[i] & 0xFF;
        return out;
    }

    public byte[] bytes(int id) {
        return bpe != null ? bpe.bytes(id) : new byte[] {(byte) id};
    }

    /**
     * The token that separates documents (end-of-text, or begin-of-text for Llama 3; byte 0 for byte
     * models): the context of a text scored on its own, as lm-evaluation-harness does.
     */
    public int documentStart() {
        Integer t = bpe == null ? null : bpe.special("<|endoftext|>");
        if (t == null && bpe != null) t = bpe.special("<|begin_of_text|>");
        return t != null ? t : 0;
    }
}
