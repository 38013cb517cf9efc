package dev.crucible.data.tokenizer;

import java.text.Normalizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tokenizer's added tokens and its normalizer, applied as Hugging Face tokenizers' AddedVocabulary
 * applies them before the pre-tokenizer: the raw text is first cut at the added tokens that are not
 * normalized (leftmost, then longest), each stretch between them is normalized, then cut at the
 * normalized added tokens, and what is left goes to the pre-tokenizer and BPE. A token flagged special
 * (&lt;|endoftext|&gt;) is matched only when specials are allowed, and is otherwise text; the others
 * (GPT-NeoX's runs of spaces) are matched always, as tokenizers matches them whatever
 * split_special_tokens says.
 *
 * @param normalization the normalizer's Unicode forms, applied in turn (tokenizer.json's NFC, NFD, NFKC, NFKD or a
 *     Sequence of them); none for byte-level BPE as GPT-2 has it
 */
record AddedVocabulary(List<Token> tokens, List<Normalizer.Form> normalization) {

    /** One added token, tokenizer.json's flags with it. */
    record Token(String content, int id, boolean special, boolean normalized) {}

    /** Every token special and not normalized, no normalizer: tiktoken's and Crucible's own tokenizers. */
    static AddedVocabulary specials(Map<String, Integer> specials) {
        return new AddedVocabulary(specials.entrySet().stream().map(e -> new Token(e.getKey(), e.getValue(), true, false)).toList(), List.of());
    }

    AddedVocabulary {
        tokens = List.copyOf(tokens);
        normalization = List.copyOf(normalization);
    }

    /** Content to id of every added token. */
    Map<String, Integer> ids() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (Token t : tokens) m.put(t.content(), t.id());
        return m;
    }

    /** Content to id of the special ones. */
    Map<String, Integer> specialIds() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (Token t : tokens) if (t.special()) m.put(t.content(), t.id());
        return m;
    }

    String normalize(String s) {
        for (Normalizer.Form f : normalization) s = Normalizer.normalize(s, f);
        return s;
    }

    /** Receives the stretches of text between matches, and the matches' ids. */
    interface Sink {
        void text(String s, int from, int to);

        void token(int id);
    }

    /** The matchers of one vocabulary: {raw, normalized} x {specials allowed, not}; null where no token qualifies. */
    Matchers matchers() {
        return new Matchers(pattern(false, true), pattern(true, true), pattern(false, false), pattern(true, false), ids());
    }

    private Pattern pattern(boolean normalized, boolean allowSpecial) {
        // the longest first: Java's alternation takes the first alternative that matches at the leftmost position
        List<String> contents = tokens.stream().filter(t -> t.normalized() == normalized && (allowSpecial || !t.special()))
                .map(Token::content).sorted((a, b) -> b.length() - a.length()).toList();
        return contents.isEmpty() ? null : Pattern.compile(String.join("|", contents.stream().map(Pattern::quote).toList()));
    }

    record Matchers(Pattern rawAll, Pattern normalizedAll, Pattern rawOrdinary, Pattern normalizedOrdinary, Map<String, Integer> ids) {
        /** text[from, to) cut as tokenizers cuts it, the normalizer applied to the stretches between raw matches. */
        void split(AddedVocabulary v, String text, int from, int to, boolean allowSpecial, Sink sink) {
            Pattern raw = allowSpecial ? rawAll : rawOrdinary, normalized = allowSpecial ? normalizedAll : normalizedOrdinary;
            boolean normalizes = !v.normalization().isEmpty();
            cut(text, from, to, raw, new Sink() {
                @Override
                public void text(String s, int a, int b) {
                    if (!normalizes) {
                        cut(s, a, b, normalized, sink);
                    } else {
                        String n = v.normalize(s.substring(a, b));
                        cut(n, 0, n.length(), normalized, sink);
                    }
                }

                @Override
                public void token(int id) {
                    sink.token(id);
                }
            });
        }

        private void cut(String s, int from, int to, Pattern p, Sink sink) {
            if (p == null) {
                if (to > from) sink.text(s, from, to);
                return;
            }
            Matcher m = p.matcher(s).region(from, to);
            int last = from;
            while (m.find()) {
                if (m.start() > last) sink.text(s, last, m.start());
                sink.token(ids.get(m.group()));
                last = m.end();
            }
            if (to > last) sink.text(s, last, to);
        }
    }

    /** The Unicode forms of tokenizer.json's normalizer names, or null for a normalizer that is not one. */
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
