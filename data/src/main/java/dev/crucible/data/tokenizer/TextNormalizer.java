package dev.crucible.data.tokenizer;

import java.text.Normalizer;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A tokenizer.json normalizer as Hugging Face tokenizers applies it to each stretch of text between added
 * tokens: Unicode forms (GPT-NeoX's NFC), Prepend (SentencePiece's "▁" before the text, in Llama 2's legacy
 * layout) and Replace (a literal string or a regex, as SentencePiece's spaces become "▁"), in turn.
 * Prepend puts its text before a stretch that is not empty, so before each stretch the added tokens leave.
 */
record TextNormalizer(List<Step> steps) {
    static final TextNormalizer NONE = new TextNormalizer(List.of());

    sealed interface Step permits Unicode, Prepend, Replace {}

    record Unicode(Normalizer.Form form) implements Step {}

    record Prepend(String prepend) implements Step {}

    /** Every match of pattern (a literal string, or a regex when regex) replaced by content; compiled is pattern's, which equality leaves out. */
    record Replace(String pattern, boolean regex, String content, Pattern compiled) implements Step, TokenDecoder.Step {
        /** A bad regex is refused here, when the tokenizer is read, not when text arrives. */
        Replace(String pattern, boolean regex, String content) {
            this(pattern, regex, content, regex ? Pattern.compile(pattern, Pattern.UNICODE_CHARACTER_CLASS) : null);
        }

        String apply(String s) {
            if (!regex) return s.replace(pattern, content);
            StringBuilder out = new StringBuilder();
            int prev = 0;
            for (int[] m : PreTokenizer.matches(compiled.matcher(s))) {
                out.append(s, prev, m[0]).append(content);
                prev = m[1];
            }
            return out.append(s, prev, s.length()).toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Replace r && pattern.equals(r.pattern) && regex == r.regex && content.equals(r.content);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(pattern, regex, content);
        }

        @Override
        public String toString() {
            return "Replace[" + (regex ? "regex " : "") + "'" + pattern + "' -> '" + content + "']";
        }
    }

    TextNormalizer {
        steps = List.copyOf(steps);
    }

    boolean isEmpty() {
        return steps.isEmpty();
    }

    /** s normalized; prepend false skips Prepend (for raw bytes that must come back as they were). */
    String apply(String s, boolean prepend) {
        for (Step step : steps) {
            switch (step) {
                case Unicode u -> s = Normalizer.normalize(s, u.form());
                case Prepend p -> {
                    if (prepend && !s.isEmpty()) s = p.prepend() + s;
                }
                case Replace r -> s = r.apply(s);
            }
        }
        return s;
    }

    /** The Unicode form of tokenizer.json's normalizer name, or null for one that is not a Unicode form. */
    static Normalizer.Form form(String type) {
        return switch (type) {
            case "NFC" -> Normalizer.Form.NFC;
            case "NFD" -> Normalizer.Form.NFD;
            case "NFKC" -> Normalizer.Form.NFKC;
            case "NFKD" -> Normalizer.Form.NFKD;
            default -> null;
        };
    }
}
