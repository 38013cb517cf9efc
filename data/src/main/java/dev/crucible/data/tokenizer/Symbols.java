package dev.crucible.data.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The kind of a BPE: what it starts a piece from, how its tokens are spelled in tokenizer.json, and how they
 * decode. Byte-level BPE (GPT-2, Llama 3, Crucible's own) starts from the piece's UTF-8 bytes, one token each,
 * spells a token in GPT-2's byte alphabet and decodes to the tokens' bytes. SentencePiece-style BPE (Llama 2,
 * Mistral, Gemma) starts from the piece's characters, each the vocabulary's token for it, else the &lt;0xXX&gt;
 * tokens of its bytes (byte_fallback), else the unknown token; spells a token as its text; and decodes through
 * tokenizer.json's decoder. The merges run the same way on both.
 */
sealed interface Symbols permits Symbols.Bytes, Symbols.Chars {
    /** The first symbols of a piece (the merges run on them). */
    int[] initial(String piece);

    /** The token that is the whole piece (ignore_merges), or null. */
    Integer whole(String piece);

    /** The token for one byte of an invalid UTF-8 sequence (raw bytes to encode), or -1 for none. */
    int byteToken(int b);

    /** A token as tokenizer.json's vocab and merges spell it (not an added token). */
    String spelling(int id);

    /** model.vocab as tokenizer.json writes it: each token's spelling and id. */
    Map<String, Integer> vocabulary();

    /** The text valid ids decode to. */
    String decode(int[] ids);

    /** The bytes valid ids decode to. */
    byte[] decodeBytes(int[] ids);

    /** Where this and o start pieces differently (so that the same text gets other ids), in words; null when they agree. */
    String differenceFrom(Symbols o);

    /**
     * One token per byte. ids: every ordinary token by its bytes (ISO-8859-1 keys); tokenBytes: each token's bytes.
     */
    record Bytes(int[] byteIds, Map<String, Integer> ids, byte[][] tokenBytes) implements Symbols {
        @Override
        public int[] initial(String piece) {
            byte[] b = piece.getBytes(StandardCharsets.UTF_8);
            int[] parts = new int[b.length];
            for (int i = 0; i < b.length; i++) parts[i] = byteIds[b[i] & 0xFF];
            return parts;
        }

        @Override
        public Integer whole(String piece) {
            return ids.get(BpeTokenizer.key(piece.getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public int byteToken(int b) {
            return byteIds[b];
        }

        @Override
        public String spelling(int id) {
            return ByteLevel.encode(tokenBytes[id]);
        }

        /** The ordinary tokens: a byte-level BPE's added tokens are not in its vocab. */
        @Override
        public Map<String, Integer> vocabulary() {
            Map<String, Integer> v = new java.util.HashMap<>();
            ids.values().forEach(id -> v.put(spelling(id), id));
            return v;
        }

        @Override
        public String decode(int[] ids) {
            return new String(decodeBytes(ids), StandardCharsets.UTF_8);
        }

        /** The bytes the ids stand for (any UTF-8 validity; tokens may split characters). */
        @Override
        public byte[] decodeBytes(int[] ids) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int id : ids) out.writeBytes(tokenBytes[id]);
            return out.toByteArray();
        }

        /** The tokens' bytes, compared by the tokenizer, say it all. */
        @Override
        public String differenceFrom(Symbols o) {
            return o instanceof Bytes ? null : "BPE on bytes vs on characters";
        }
    }

    /**
     * One token per character, as Hugging Face tokenizers' BPE starts a word: the vocabulary's token for the character;
     * else, with byte fallback, the tokens &lt;0xXX&gt; of its UTF-8 bytes when the vocabulary has them all; else the
     * unknown token, consecutive ones fused into one when fuseUnk (a character with neither is dropped, as tokenizers
     * drops it). strings: each token's text (vocabulary entries, added tokens' content) for the decoder.
     *
     * @param byteFallback the token &lt;0xXX&gt; for each byte, -1 where the vocabulary lacks it; null without byte fallback
     * @param unk the unknown token, or -1
     * @param charIds the vocabulary's one-character tokens by code point, so that a piece's characters are looked up without
     *     a String each (derived from vocab)
     */
    record Chars(Map<String, Integer> vocab, int[] byteFallback, int unk, boolean fuseUnk, String[] strings, TokenDecoder decoder,
                 CharIds charIds) implements Symbols {
        Chars(Map<String, Integer> vocab, int[] byteFallback, int unk, boolean fuseUnk, String[] strings, TokenDecoder decoder) {
            this(vocab, byteFallback, unk, fuseUnk, strings, decoder, CharIds.of(vocab));
        }

        @Override
        public int[] initial(String piece) {
            BpeTokenizer.IntList out = new BpeTokenizer.IntList();
            boolean pendingUnk = false; // unknown characters not yet written: tokenizers writes them when a character of the vocabulary follows, or at the end
            for (int i = 0; i < piece.length(); ) {
                int cp = piece.codePointAt(i), n = Character.charCount(cp), id = charIds.get(cp);
                i += n;
                if (id >= 0) {
                    if (pendingUnk) out.add(unk);
                    pendingUnk = false;
                    out.add(id);
                    continue;
                }
                if (fallBack(Character.toString(cp), out)) continue; // tokenizers writes the bytes before an unknown character still pending
                if (unk < 0) continue;
                if (pendingUnk && !fuseUnk) out.add(unk);
                pendingUnk = true;
            }
            if (pendingUnk) out.add(unk);
            return out.toArray();
        }

        /** The byte tokens of c into out, when there are byte tokens and the vocabulary has all of c's. */
        private boolean fallBack(String c, BpeTokenizer.IntList out) {
            if (byteFallback == null) return false;
            byte[] b = c.getBytes(StandardCharsets.UTF_8);
            for (byte x : b) if (byteFallback[x & 0xFF] < 0) return false;
            for (byte x : b) out.add(byteFallback[x & 0xFF]);
            return true;
        }

        @Override
        public Integer whole(String piece) {
            return vocab.get(piece);
        }

        @Override
        public int byteToken(int b) {
            return byteFallback != null && byteFallback[b] >= 0 ? byteFallback[b] : unk;
        }

        @Override
        public String spelling(int id) {
            return strings[id];
        }

        /** As read: SentencePiece's vocabulary holds its control tokens (&lt;unk&gt;, &lt;s&gt;), which are also added tokens. */
        @Override
        public Map<String, Integer> vocabulary() {
            return vocab;
        }

        @Override
        public String decode(int[] ids) {
            List<String> tokens = new ArrayList<>(ids.length);
            for (int id : ids) tokens.add(strings[id]);
            return decoder.decode(tokens);
        }

        /** The text's UTF-8 (the decoder has made a byte run that is not UTF-8 one U+FFFD per byte, as tokenizers does). */
        @Override
        public byte[] decodeBytes(int[] ids) {
            return decode(ids).getBytes(StandardCharsets.UTF_8);
        }

        /** The decoder is left out: it changes no id. */
        @Override
        public String differenceFrom(Symbols o) {
            if (!(o instanceof Chars c)) return "BPE on characters vs on bytes";
            if (!vocab.equals(c.vocab)) return "the vocabularies' spellings differ";
            if (!Arrays.equals(byteFallback, c.byteFallback)) return "byte fallback " + (byteFallback != null) + " vs " + (c.byteFallback != null) + ", or its byte tokens differ";
            if (unk != c.unk) return "unknown token " + unk + " vs " + c.unk;
            if (fuseUnk != c.fuseUnk) return "fuse_unk " + fuseUnk + " vs " + c.fuseUnk;
            return null;
        }
    }

    /** One-character tokens by code point: the Basic Multilingual Plane in an array, the rest in a map. */
    record CharIds(int[] bmp, Map<Integer, Integer> other) {
        static CharIds of(Map<String, Integer> vocab) {
            int[] bmp = new int[Character.MAX_VALUE + 1];
            java.util.Arrays.fill(bmp, -1);
            Map<Integer, Integer> other = new java.util.HashMap<>();
            vocab.forEach((s, id) -> {
                if (s.isEmpty() || s.codePointCount(0, s.length()) != 1) return;
                int cp = s.codePointAt(0);
                if (cp <= Character.MAX_VALUE) bmp[cp] = id;
                else other.put(cp, id);
            });
            return new CharIds(bmp, other);
        }

        /** The token of code point cp, or -1. */
        int get(int cp) {
            return cp <= Character.MAX_VALUE ? bmp[cp] : other.getOrDefault(cp, -1);
        }
    }
}
