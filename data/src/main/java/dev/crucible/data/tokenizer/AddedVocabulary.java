package dev.crucible.data.tokenizer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A tokenizer's added tokens and its normalizer, applied as Hugging Face tokenizers' AddedVocabulary
 * applies them before the pre-tokenizer: the raw text is first cut at the added tokens that are not
 * normalized (leftmost, then longest), each stretch between them is normalized, then cut at the
 * normalized added tokens, and what is left goes to the pre-tokenizer and BPE. A token flagged special
 * (&lt;|endoftext|&gt;) is matched only when specials are allowed, and is otherwise text (which still hides what it
 * covers from the other tokens cut from the raw text, as in tokenizers); the others
 * (GPT-NeoX's runs of spaces) are matched always, as tokenizers matches them whatever
 * split_special_tokens says.
 *
 * @param normalizer tokenizer.json's normalizer ({@link TextNormalizer#NONE} for byte-level BPE as GPT-2 has it)
 */
record AddedVocabulary(List<Token> tokens, TextNormalizer normalizer) {

    /** One added token, tokenizer.json's flags with it. */
    record Token(String content, int id, boolean special, boolean normalized) {}

    /** Every token special and not normalized, no normalizer: tiktoken's and Crucible's own tokenizers. */
    static AddedVocabulary specials(Map<String, Integer> specials) {
        return new AddedVocabulary(specials.entrySet().stream().map(e -> new Token(e.getKey(), e.getValue(), true, false)).toList(), TextNormalizer.NONE);
    }

    AddedVocabulary {
        // by id: the same tokens listed in another order are the same vocabulary
        tokens = tokens.stream().sorted(java.util.Comparator.comparingInt(Token::id)).toList();
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

    /** Receives the stretches of text between matches (atStart: the one where the text starts), and the matches' ids. */
    interface Sink {
        void text(String s, int from, int to, boolean atStart);

        void token(int id);
    }

    /** The matchers of one vocabulary: the raw added tokens', and the normalized ones' by their normalized text. */
    Matchers matchers() {
        Map<String, Integer> raw = new LinkedHashMap<>(), normalized = new LinkedHashMap<>();
        java.util.Set<String> special = new java.util.HashSet<>(), normalizedSpecial = new java.util.HashSet<>();
        for (Token t : tokens) {
            // tokenizers matches a normalized token by its content as the normalizer leaves it (refresh_added_tokens)
            String content = t.normalized() ? normalizer.apply(t.content(), true) : t.content();
            (t.normalized() ? normalized : raw).put(content, t.id());
            if (t.special()) (t.normalized() ? normalizedSpecial : special).add(content);
        }
        return new Matchers(new Matcher(raw, special), new Matcher(normalized, normalizedSpecial));
    }

    /**
     * Leftmost, then longest, matches of a set of added tokens (tokenizers' Aho-Corasick with LeftmostLongest). A special
     * token's match where specials are not allowed is text, as tokenizers' encode_special_tokens leaves it: it still
     * hides the text it covers from the other tokens.
     */
    record Matcher(Pattern pattern, Map<String, Integer> ids, java.util.Set<String> special) {
        Matcher(Map<String, Integer> ids, java.util.Set<String> special) {
            // the longest first: Java's alternation takes the first alternative that matches at the leftmost position
            this(ids.isEmpty() ? null : Pattern.compile(String.join("|", ids.keySet().stream().sorted((a, b) -> b.length() - a.length())
                    .map(Pattern::quote).toList())), ids, special);
        }

        /** atStart: s[from] is where the text starts. */
        void cut(String s, int from, int to, boolean allowSpecial, boolean atStart, Sink sink) {
            if (pattern == null) {
                if (to > from) sink.text(s, from, to, atStart);
                return;
            }
            java.util.regex.Matcher m = pattern.matcher(s).region(from, to);
            int last = from;
            while (m.find()) {
                if (!allowSpecial && special.contains(m.group())) continue;
                if (m.start() > last) sink.text(s, last, m.start(), atStart && last == from);
                sink.token(ids.get(m.group()));
                last = m.end();
            }
            if (to > last) sink.text(s, last, to, atStart && last == from);
        }
    }

    record Matchers(Matcher raw, Matcher normalized) {
        /**
         * text[from, to) cut as tokenizers cuts it, the normalizer applied to the stretches between raw matches; prepend
         * false skips the normalizer's Prepend (raw bytes that must come back as they were).
         */
        void split(AddedVocabulary v, String text, int from, int to, boolean allowSpecial, boolean prepend, Sink sink) {
            boolean normalizes = !v.normalizer().isEmpty();
            raw.cut(text, from, to, allowSpecial, true, new Sink() {
                @Override
                public void text(String s, int a, int b, boolean atStart) {
                    if (!normalizes) {
                        normalized.cut(s, a, b, allowSpecial, atStart, sink);
                    } else {
                        String n = v.normalizer().apply(s.substring(a, b), prepend);
                        normalized.cut(n, 0, n.length(), allowSpecial, atStart, sink);
                    }
                }

                @Override
                public void token(int id) {
                    sink.token(id);
                }
            });
        }
    }
}
