package dev.crucible.data.tokenizer;

import java.util.Arrays;

/**
 * The special tokens a tokenizer.json's post_processor puts around one text when they are asked for
 * (Hugging Face's add_special_tokens, the default of {@code tokenizer(text)} and of vLLM's
 * /v1/completions): Llama's and Gemma's begin-of-sequence token before it (TemplateProcessing), BERT's
 * [CLS] before and [SEP] after; none for GPT-2's ByteLevel, which only trims offsets. The template for a
 * pair of texts is not used: nothing here encodes pairs. source: the tokenizer.json post_processor it was
 * read from, as JSON text, which writing the tokenizer puts back as it was (null: not read from one);
 * equality and the text form leave it out.
 */
public record PostProcessor(int[] prefix, int[] suffix, String source) {
    public static final PostProcessor NONE = new PostProcessor(new int[0], new int[0], null);

    /** One not read from a tokenizer.json (no source). */
    public PostProcessor(int[] prefix, int[] suffix) {
        this(prefix, suffix, null);
    }

    public PostProcessor {
        prefix = prefix.clone();
        suffix = suffix.clone();
    }

    @Override
    public int[] prefix() {
        return prefix.clone();
    }

    @Override
    public int[] suffix() {
        return suffix.clone();
    }

    public boolean isEmpty() {
        return prefix.length == 0 && suffix.length == 0;
    }

    /** ids with the special tokens around them (a new array). */
    public int[] around(int[] ids) {
        int[] out = new int[prefix.length + ids.length + suffix.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(ids, 0, out, prefix.length, ids.length);
        System.arraycopy(suffix, 0, out, prefix.length + ids.length, suffix.length);
        return out;
    }

    /** This processor and then next, as tokenizers' Sequence of processors runs them: next's tokens outermost. */
    PostProcessor then(PostProcessor next) {
        return new PostProcessor(concat(next.prefix, prefix), concat(suffix, next.suffix));
    }

    /** The same tokens, read from source. */
    PostProcessor readFrom(String json) {
        return new PostProcessor(prefix, suffix, json);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PostProcessor p && Arrays.equals(prefix, p.prefix) && Arrays.equals(suffix, p.suffix);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(prefix) + Arrays.hashCode(suffix);
    }

    @Override
    public String toString() {
        return "PostProcessor[prefix " + Arrays.toString(prefix) + ", suffix " + Arrays.toString(suffix) + "]";
    }
}
