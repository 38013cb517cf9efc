package dev.crucible.data.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What BPE starts a piece from, and how its tokens decode: the piece's UTF-8 bytes, one token each
 * (byte-level BPE: GPT-2, Llama 3, Crucible's own), or its characters, each the vocabulary's token for it, else
 * the &lt;0xXX&gt; tokens of its bytes (byte_fallback), else the unknown token (SentencePiece-style BPE: Llama 2,
 * Mistral, Gemma). The merges are the same either way.
 */
sealed interface Symbols permits Symbols.Bytes, Symbols.Chars {
    /** The first symbols of a piece (the merges run on them). */
    int[] initial(String piece);

    /** The token that is the whole piece (ignore_merges), or null. */
    Integer whole(String piece);

    /** The token for one byte of an invalid UTF-8 sequence (raw bytes to encode), or -1 for none. */
    int byteToken(int b);

    /** The text ids decode to (tokenBytes: each token's bytes). */
    String decode(int[] ids, byte[][] tokenBytes);

    /** The bytes ids decode to. */
    byte[] decodeBytes(int[] ids, byte[][] tokenBytes);

    /**
     * One token per byte. ids: every ordinary token by its bytes (ISO-8859-1 keys).
     */
    record Bytes(int[] byteIds, Map<String, Integer> ids) implements Symbols {
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
        public String decode(int[] ids, byte[][] tokenBytes) {
            return new String(decodeBytes(ids, tokenBytes), StandardCharsets.UTF_8);
        }

        /** The bytes the ids stand for (any UTF-8 validity; tokens may split characters). */
        @Override
        public byte[] decodeBytes(int[] ids, byte[][] tokenBytes) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int id : ids) out.writeBytes(tokenBytes[id]);
            return out.toByteArray();
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
     * @param source the tokenizer.json these were read from, which writing the tokenizer puts back as it was; equality leaves it out
     */
    record Chars(Map<String, Integer> vocab, int[] byteFallback, int unk, boolean fuseUnk, String[] strings, TokenDecoder decoder, String source)
            implements Symbols {
        @Override
        public int[] initial(String piece) {
            BpeTokenizer.IntList out = new BpeTokenizer.IntList();
            int pendingUnk = 0; // unknown characters not yet written: tokenizers writes them when a character of the vocabulary follows, or at the end
            for (int i = 0; i < piece.length(); ) {
                int n = Character.charCount(piece.codePointAt(i));
                String c = piece.substring(i, i + n);
                i += n;
                Integer id = vocab.get(c);
                if (id != null) {
                    if (pendingUnk > 0) out.add(unk);
                    pendingUnk = 0;
                    out.add(id);
                    continue;
                }
                if (fallBack(c, out)) continue; // tokenizers writes the bytes before an unknown character still pending
                if (unk < 0) continue;
                if (pendingUnk > 0 && !fuseUnk) out.add(unk);
                pendingUnk = 1;
            }
            if (pendingUnk > 0) out.add(unk);
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
        public String decode(int[] ids, byte[][] tokenBytes) {
            List<String> tokens = new ArrayList<>(ids.length);
            for (int id : ids) tokens.add(strings[id]);
            return decoder.decode(tokens);
        }

        /** The text's UTF-8 (the decoder has made a byte run that is not UTF-8 one U+FFFD per byte, as tokenizers does). */
        @Override
        public byte[] decodeBytes(int[] ids, byte[][] tokenBytes) {
            return decode(ids, tokenBytes).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Chars c && vocab.equals(c.vocab) && java.util.Arrays.equals(byteFallback, c.byteFallback) && unk == c.unk
                    && fuseUnk == c.fuseUnk && java.util.Arrays.equals(strings, c.strings) && decoder.equals(c.decoder);
        }

        @Override
        public int hashCode() {
            return vocab.hashCode();
        }
    }
}
