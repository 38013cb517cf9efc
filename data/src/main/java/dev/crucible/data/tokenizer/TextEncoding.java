package dev.crucible.data.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a model directory turns text into tokens: its tokenizer.json (BPE, byte-level or SentencePiece-style), or raw UTF-8
 * bytes for a 256-token vocabulary without one (as `crucible demo` trains). Encodings are cached
 * per tokenizer (the SHA-256 of its file, with the special tokens its tokenizer_config.json adds):
 * the checkpoints of a run share one, so an evaluation tokenizes each task text once for the whole series.
 */
public final class TextEncoding {
    private final BpeTokenizer bpe;
    private final PostProcessor post;
    private final int documentStart;
    private final String sha; // of the tokenizer.json bpe was read from; null for bytes
    private final java.util.Map<String, int[]> cache = new java.util.concurrent.ConcurrentHashMap<>();
    static final int CACHE_ENTRIES = 1 << 21;
    private static final java.util.Map<String, TextEncoding> BY_TOKENIZER = new java.util.concurrent.ConcurrentHashMap<>();

    private TextEncoding(BpeTokenizer bpe, PostProcessor post, int documentStart, String sha) {
        this.bpe = bpe;
        this.post = post;
        this.documentStart = documentStart;
        this.sha = sha;
    }

    /**
     * modelDir's tokenizer.json, with the special tokens its tokenizer_config.json has transformers put around a
     * text ({@link TokenizerConfig#postProcessor}); raw bytes for a 256-token vocabulary without one.
     */
    public static TextEncoding forModel(Path modelDir, int vocabSize) throws IOException {
        Path tok = modelDir.resolve("tokenizer.json");
        if (Files.isRegularFile(tok)) {
            byte[] file = Files.readAllBytes(tok);
            String sha = java.util.HexFormat.of().formatHex(sha256(file));
            TextEncoding known = BY_TOKENIZER.values().stream().filter(e -> e.sha.equals(sha)).findAny().orElse(null); // its tokenizer, read once
            BpeTokenizer t = known != null ? known.bpe : TokenizerJson.read(tok);
            if (t.vocabSize() > vocabSize) throw new IOException(tok + ": " + t.vocabSize() + " tokens, more than the model's vocabulary of " + vocabSize);
            // what only the special tokens need costs only them, as a bad chat template costs only chat
            TokenizerConfig config = TokenizerConfig.EMPTY;
            PostProcessor post = t.postProcessor();
            try {
                config = TokenizerConfig.read(modelDir);
                post = config.postProcessor(t);
            } catch (IOException e) {
                System.err.println("crucible: " + e.getMessage() + "; the special tokens around a prompt follow tokenizer.json alone");
            }
            int start = documentStart(t, config);
            String key = sha + " " + post + " " + start;
            known = BY_TOKENIZER.get(key);
            if (known != null) return known;
            if (BY_TOKENIZER.size() > 16) BY_TOKENIZER.clear(); // a long-lived process comparing many tokenizers
            PostProcessor around = post;
            return BY_TOKENIZER.computeIfAbsent(key, k -> new TextEncoding(t, around, start, sha));
        }
        if (vocabSize == 256) return new TextEncoding(null, PostProcessor.NONE, 0, null);
        throw new IOException(modelDir + ": no tokenizer.json, and a vocabulary of " + vocabSize + " is not byte-level (256)");
    }

    private static byte[] sha256(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Text to tokens; special token strings are recognised. The returned array is shared: do not change it. */
    public int[] encode(String text) {
        if (bpe != null) {
            int[] ids = cache.get(text);
            if (ids == null) {
                ids = bpe.encode(text, true);
                if (cache.size() < CACHE_ENTRIES) cache.put(text, ids);
            }
            return ids;
        }
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) out[i] = b[i] & 0xFF;
        return out;
    }

    /**
     * Text to tokens as Hugging Face's {@code tokenizer(text)} gives them (add_special_tokens, its default, and
     * vLLM's for /v1/completions): the special tokens transformers puts around {@link #encode}'s (Llama 3's
     * begin-of-text before them; {@link #forModel}), none for GPT-2-style tokenizers and byte models. A new array.
     */
    public int[] encodeWithSpecialTokens(String text) {
        return post.around(encode(text));
    }

    /**
     * Text to tokens without the cache: for texts seen once (a corpus's documents, which would fill the
     * cache, shared by every user of this tokenizer in the process, with whole documents).
     */
    public int[] encodeOnce(String text) {
        if (bpe == null) return encode(text);
        int[] ids = cache.get(text);
        return ids != null ? ids : bpe.encode(text, true);
    }

    /** Texts the cache holds now. */
    int cached() {
        return cache.size();
    }

    public byte[] bytes(int id) {
        return bpe != null ? bpe.bytes(id) : new byte[] {(byte) id};
    }

    /**
     * The token that separates documents: the context of a text scored on its own, as lm-evaluation-harness
     * takes it (its prefix_token_id: the tokenizer's bos_token, else its eos_token; byte 0 for byte models).
     */
    public int documentStart() {
        return documentStart;
    }

    /**
     * tokenizer_config.json's bos_token, else its eos_token, where one is a single token; without them (Crucible's
     * own tokenizers, which have no such file) the token that separates documents in Crucible's shards.
     */
    private static int documentStart(BpeTokenizer t, TokenizerConfig config) {
        Integer id = config.tokenId(t, "bos_token");
        if (id == null) id = config.tokenId(t, "eos_token");
        if (id != null) return id;
        id = t.documentSeparator();
        return id != null ? id : 0;
    }
}
