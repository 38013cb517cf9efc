package dev.crucible.data.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The decoder of a tokenizer.json whose symbols are characters (SentencePiece-style BPE), as Hugging Face
 * tokenizers runs it on the tokens' strings: each step maps the list of strings to another (decode_chain),
 * then they are joined. Replace, ByteFallback (a run of &lt;0xXX&gt; tokens becomes its UTF-8 text, or one
 * U+FFFD per byte when it is not UTF-8), Fuse, Strip and Metaspace, alone or in a Sequence; no decoder joins
 * the tokens with spaces, as tokenizers does. Byte-level BPE has no use for this: its tokens are bytes.
 */
record TokenDecoder(List<Step> steps, boolean joinWithSpaces) {
    /** Replace is the normalizer's step (tokenizers has one for both), applied to each token. */
    sealed interface Step permits TextNormalizer.Replace, ByteFallback, Fuse, Strip, Metaspace {}

    record ByteFallback() implements Step {}

    record Fuse() implements Step {}

    /** Up to start leading and stop trailing copies of content removed from each token. */
    record Strip(int content, int start, int stop) implements Step {}

    /** replacement becomes a space; in the first token it is dropped unless the scheme is never. */
    record Metaspace(int replacement, boolean dropInFirst) implements Step {}

    TokenDecoder {
        steps = List.copyOf(steps);
    }

    /** The text the tokens decode to, as tokenizers' decode gives it. */
    String decode(List<String> tokens) {
        for (Step step : steps) tokens = apply(step, tokens);
        return String.join(joinWithSpaces ? " " : "", tokens);
    }

    /**
     * The bytes one token stands for inside a text: Replace and Metaspace's space, ByteFallback's byte, but not
     * what only the start of a text sees (Strip, Metaspace in the first token).
     */
    byte[] bytes(String token) {
        boolean byteFallback = false;
        for (Step step : steps) {
            switch (step) {
                case TextNormalizer.Replace r -> token = r.apply(token);
                case Metaspace m -> token = token.replace(Character.toString(m.replacement()), " ");
                case ByteFallback b -> byteFallback = true;
                case Fuse f -> {}
                case Strip s -> {}
            }
        }
        int b = byteFallback ? byteOf(token) : -1;
        return b >= 0 ? new byte[] {(byte) b} : token.getBytes(StandardCharsets.UTF_8);
    }

    /** The byte a token &lt;0xXX&gt; stands for, or -1 (tokenizers' ByteFallback test: six bytes, two hexadecimal digits in either case). */
    static int byteOf(String token) {
        if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') return -1;
        int hi = hex(token.charAt(3)), lo = hex(token.charAt(4));
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    private static int hex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    private static List<String> apply(Step step, List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        switch (step) {
            case TextNormalizer.Replace r -> tokens.forEach(t -> out.add(r.apply(t)));
            case Fuse f -> out.add(String.join("", tokens));
            case Strip s -> tokens.forEach(t -> out.add(strip(t, s)));
            case Metaspace m -> {
                String space = Character.toString(m.replacement());
                for (int i = 0; i < tokens.size(); i++) out.add(tokens.get(i).replace(space, i == 0 && m.dropInFirst() ? "" : " "));
            }
            case ByteFallback b -> {
                ByteArrayOutputStream run = new ByteArrayOutputStream();
                for (String t : tokens) {
                    int v = byteOf(t);
                    if (v >= 0) {
                        run.write(v);
                        continue;
                    }
                    flush(run, out);
                    out.add(t);
                }
                flush(run, out);
            }
        }
        return out;
    }

    private static void flush(ByteArrayOutputStream run, List<String> out) {
        if (run.size() == 0) return;
        byte[] b = run.toByteArray();
        try {
            out.add(dev.crucible.data.StrictUtf8.decode(b));
        } catch (dev.crucible.data.StrictUtf8.Invalid e) {
            for (int i = 0; i < b.length; i++) out.add("\uFFFD");
        }
        run.reset();
    }

    private static String strip(String t, Strip s) {
        int[] cps = t.codePoints().toArray();
        int from = 0, to = cps.length;
        while (from < s.start() && from < cps.length && cps[from] == s.content()) from++;
        while (cps.length - to < s.stop() && to > from && cps[to - 1] == s.content()) to--;
        return new String(cps, from, to - from);
    }
}
