package dev.crucible.data.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BPE as Hugging Face tokenizers, tiktoken and SentencePiece's BPE models run it: text is split into pieces,
 * each piece starts as one token per UTF-8 byte (byte-level BPE: GPT-2, tiktoken, Llama 3) or per character
 * with byte fallback (SentencePiece-style: Llama 2, Mistral, Gemma; {@link Symbols}), and the adjacent pair
 * with the best merge rank is merged until no pair has a rank. Added tokens are matched before splitting
 * ({@link AddedVocabulary}: special ones such as <|endoftext|> when allowed, the others always) and a
 * tokenizer.json's normalizer (NFC for GPT-NeoX, "▁" for spaces in Llama 2's) runs on the text between them.
 * For byte-level BPE decode(encode(x)) gives back x's bytes exactly, for any input, unless a tokenizer.json's
 * normalizer changes the text, its pre-tokenizer removes text (a Split with behavior Removed) or adds a prefix space.
 *
 * <p>Token byte strings are keyed as ISO-8859-1 strings (one char per byte) so that lookups of
 * byte ranges are plain string hash lookups.
 *
 * <p>Merge priority: a tokenizer read from tokenizer.json ranks the pairs its merges list, as
 * Hugging Face tokenizers does; one from tiktoken ranks or trained here ranks a pair by the rank of
 * the token it makes, as tiktoken does. With ignoreMerges (tiktoken, Llama 3's tokenizer.json) a
 * piece that is a token is that token, without merging.
 */
public final class BpeTokenizer {
    /** GPT-2's split pattern (r50k/p50k); \s must be Unicode-aware, hence UNICODE_CHARACTER_CLASS. */
    public static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    /** cl100k_base's split pattern (GPT-3.5/4), as tiktoken writes it with possessive quantifiers. */
    public static final String CL100K_PATTERN =
            "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
    /** Llama 3's split pattern. */
    public static final String LLAMA3_PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private final PreTokenizer pre;
    private final byte[][] tokenBytes;          // id -> bytes
    private final Symbols symbols;
    private final Map<String, Integer> ranks;   // merged bytes (latin-1 key) -> the first rank that makes them
    private final AddedVocabulary added;
    private final Map<String, Integer> addedIds, specials;
    private final AddedVocabulary.Matchers addedMatchers;
    private final boolean ignoreMerges;
    private final int[][] mergeList;            // {left, right, merged} by rank, as tokenizer.json lists them; null: by ranks
    private final PostProcessor postProcessor;
    // shared by threads encoding at once; bounded so a long tail of rare pieces cannot fill memory
    private final Map<String, int[]> cache = new java.util.concurrent.ConcurrentHashMap<>();
    /** Longer pieces (in UTF-16 units) are not cached: a SentencePiece-style tokenizer without a pre-tokenizer has whole paragraphs as pieces. */
    static final int CACHED_PIECE_CHARS = 256;
    /** Longer pieces merge by a priority queue: the scan for the best pair would cost the square of their length. */
    static final int HEAP_MERGE_SYMBOLS = 48;
    private final PairMerges merges;

    /** Pair priority by the merged token's rank (tiktoken's); a piece that is a token is taken whole. */
    BpeTokenizer(String pattern, byte[][] tokenBytes, Map<String, Integer> ranks, Map<String, Integer> specials, boolean addPrefixSpace) {
        this(PreTokenizer.of(pattern, addPrefixSpace), tokenBytes, ranks, AddedVocabulary.specials(specials), true, null, PostProcessor.NONE);
    }

    /** Byte-level BPE: the pre-tokenizer ends with ByteLevel, and every byte is a token. */
    BpeTokenizer(PreTokenizer pre, byte[][] tokenBytes, Map<String, Integer> ranks, AddedVocabulary added, boolean ignoreMerges, int[][] mergeList,
                 PostProcessor postProcessor) {
        this(pre, tokenBytes, ranks, added, ignoreMerges, mergeList, postProcessor, byteSymbols(tokenBytes, added));
    }

    private BpeTokenizer(PreTokenizer pre, byte[][] tokenBytes, Map<String, Integer> ranks, AddedVocabulary added, boolean ignoreMerges, int[][] mergeList,
                         PostProcessor postProcessor, Symbols.Bytes symbols) {
        this(pre, tokenBytes, ranks, added, ignoreMerges, mergeList, postProcessor, symbols,
                mergeList != null ? PairMerges.of(mergeList) : PairMerges.build(tokenBytes, symbols.ids(), ranks));
    }

    /** BPE on characters (tokenizer.json's merges list, which ranks the pairs); tokenBytes: what each token stands for inside a text. */
    BpeTokenizer(PreTokenizer pre, byte[][] tokenBytes, Symbols.Chars symbols, AddedVocabulary added, boolean ignoreMerges, int[][] mergeList,
                 PostProcessor postProcessor) {
        this(pre, tokenBytes, Map.of(), added, ignoreMerges, mergeList, postProcessor, symbols, PairMerges.of(mergeList));
    }

    private BpeTokenizer(PreTokenizer pre, byte[][] tokenBytes, Map<String, Integer> ranks, AddedVocabulary added, boolean ignoreMerges, int[][] mergeList,
                         PostProcessor postProcessor, Symbols symbols, PairMerges merges) {
        if ((pre.byteLevel() != null) != (symbols instanceof Symbols.Bytes)) {
            throw new IllegalArgumentException(symbols instanceof Symbols.Bytes ? "byte-level BPE needs a ByteLevel pre-tokenizer" : "BPE on characters with a ByteLevel pre-tokenizer");
        }
        this.pre = pre;
        this.postProcessor = postProcessor;
        this.tokenBytes = tokenBytes;
        this.symbols = symbols;
        this.added = added;
        this.addedIds = added.ids();
        this.specials = added.specialIds();
        this.addedMatchers = added.matchers();
        this.ranks = ranks;
        this.ignoreMerges = ignoreMerges;
        this.mergeList = mergeList;
        this.merges = merges;
    }

    /** Every ordinary token by its bytes, and the token of each byte, which a byte-level vocabulary must have. */
    private static Symbols.Bytes byteSymbols(byte[][] tokenBytes, AddedVocabulary added) {
        Map<String, Integer> ids = new HashMap<>(tokenBytes.length * 2);
        java.util.Set<Integer> addedIds = new java.util.HashSet<>(added.ids().values());
        for (int i = 0; i < tokenBytes.length; i++) {
            if (tokenBytes[i] != null && !addedIds.contains(i)) ids.put(key(tokenBytes[i]), i);
        }
        int[] byteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(key(new byte[] {(byte) b}));
            if (id == null) throw new IllegalArgumentException("vocabulary lacks the single byte " + b + ": not a byte-level BPE");
            byteIds[b] = id;
        }
        return new Symbols.Bytes(byteIds, ids, tokenBytes);
    }

    static String key(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /**
     * tiktoken's format (as jtokkit and OpenAI ship it): one "base64(token bytes) rank" per line; the
     * rank is the token id and the merge priority.
     */
    public static BpeTokenizer fromTiktoken(InputStream in, String pattern, Map<String, Integer> specials) throws IOException {
        List<byte[]> tokens = new ArrayList<>();
        Map<String, Integer> ranks = new HashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                int sp = line.indexOf(' ');
                if (sp < 0) throw new IOException("tiktoken ranks, line " + lineNo + ": expected 'base64 rank'");
                byte[] bytes = Base64.getDecoder().decode(line.substring(0, sp));
                int rank = Integer.parseInt(line.substring(sp + 1).trim());
                while (tokens.size() <= rank) tokens.add(null);
                tokens.set(rank, bytes);
                ranks.put(key(bytes), rank);
            }
        }
        int n = tokens.size();
        for (int id : specials.values()) n = Math.max(n, id + 1);
        byte[][] tb = new byte[n][];
        for (int i = 0; i < tokens.size(); i++) tb[i] = tokens.get(i);
        specials.forEach((s, id) -> tb[id] = s.getBytes(StandardCharsets.UTF_8));
        return new BpeTokenizer(pattern, tb, ranks, specials, false);
    }

    public int vocabSize() {
        return tokenBytes.length;
    }

    PreTokenizer preTokenizer() {
        return pre;
    }

    /** Whether ByteLevel puts a space before each stretch of text (false for BPE on characters, whose Metaspace or normalizer does it). */
    public boolean addPrefixSpace() {
        return pre.byteLevel() != null && pre.byteLevel().addPrefixSpace();
    }

    /** What a piece starts from: bytes or characters. */
    Symbols symbols() {
        return symbols;
    }

    /** Whether a piece that is a token is taken whole instead of merged up to (tokenizer.json's ignore_merges). */
    public boolean ignoreMerges() {
        return ignoreMerges;
    }

    /** The merges as tokenizer.json listed them ({left, right, merged} ids by rank), or null when ranked by the merged token. */
    int[][] mergeList() {
        return mergeList;
    }

    /** The special tokens (content to id): the added tokens flagged special, which stand for no text. */
    public Map<String, Integer> specials() {
        return specials;
    }

    /** The id of a special token, or null. */
    public Integer special(String content) {
        return specials.get(content);
    }

    /** Begin-of-sequence tokens by name, for a tokenizer whose post_processor puts none before a text: Llama 3's, SentencePiece's, Gemma's. */
    public static final List<String> BEGIN_OF_TEXT = List.of("<|begin_of_text|>", "<s>", "<bos>");

    /**
     * The token Crucible puts before each document of a corpus (and a checkpoint's config.json names as its bos and eos):
     * end-of-text (GPT-2's, GPT-NeoX's, Crucible's own tokenizers'), else the first token tokenizer.json's post_processor
     * puts before a text (Llama 2's &lt;s&gt;, Llama 3's, Gemma's &lt;bos&gt;), else the first of {@link #BEGIN_OF_TEXT} it has;
     * null when it has none.
     */
    public Integer documentSeparator() {
        Integer id = specials.get("<|endoftext|>");
        if (id != null) return id;
        int[] prefix = postProcessor.prefix();
        if (prefix.length > 0) return prefix[0];
        for (String token : BEGIN_OF_TEXT) {
            id = specials.get(token);
            if (id != null) return id;
        }
        return null;
    }

    /**
     * The special tokens tokenizer.json's post_processor puts around a text when they are asked for ({@link PostProcessor#NONE}:
     * none). Not part of {@link #differenceFrom}: the ids a text encodes to, which shards and teachers compare, have none.
     */
    public PostProcessor postProcessor() {
        return postProcessor;
    }

    /** The added tokens, special or not, with tokenizer.json's flags, and the normalizer. */
    AddedVocabulary added() {
        return added;
    }

    /** The bytes a token stands for inside a text (an added token's UTF-8 text; for SentencePiece-style BPE "▁" is a space, &lt;0xXX&gt; its byte). */
    public byte[] bytes(int id) {
        if (id < 0 || id >= tokenBytes.length || tokenBytes[id] == null) throw new IllegalArgumentException("token id " + id + " is not in the vocabulary of " + tokenBytes.length);
        return tokenBytes[id];
    }

    /**
     * Where this tokenizer and o turn text into different ids (vocabulary size, a token's bytes, the
     * added tokens, the normalizer, the pre-tokenizer, what BPE starts a piece from), in words; null when they agree
     * on all of it. The decoder and the post_processor are left out: they change no id of a text.
     */
    public String differenceFrom(BpeTokenizer o) {
        if (vocabSize() != o.vocabSize()) return "vocabulary of " + vocabSize() + " vs " + o.vocabSize() + " tokens";
        if (!addedIds.equals(o.addedIds)) return "added tokens " + addedIds + " vs " + o.addedIds;
        if (!added.tokens().equals(o.added.tokens())) return "added tokens' flags " + added.tokens() + " vs " + o.added.tokens();
        if (!added.normalizer().equals(o.added.normalizer())) return "normalizer " + added.normalizer() + " vs " + o.added.normalizer();
        String symbolsDiffer = symbols.differenceFrom(o.symbols);
        if (symbolsDiffer != null) return symbolsDiffer;
        if (!pre.equals(o.pre)) return "pre-tokenizer " + pre + " vs " + o.pre;
        if (ignoreMerges != o.ignoreMerges) return "ignore_merges " + ignoreMerges + " vs " + o.ignoreMerges;
        if (!java.util.Arrays.deepEquals(mergeList, o.mergeList)) return "the merges differ";
        for (int id = 0; id < tokenBytes.length; id++) {
            if (!java.util.Arrays.equals(tokenBytes[id], o.tokenBytes[id])) return "token " + id + " differs";
            if (tokenBytes[id] != null && !java.util.Objects.equals(rank(tokenBytes[id]), o.rank(o.tokenBytes[id]))) return "the merge rank of token " + id + " differs";
        }
        return null;
    }

    /** Merge rank of the token with these bytes (lower merges first), or null for bytes and added tokens. */
    Integer rank(byte[] token) {
        return ranks.get(key(token));
    }

    /**
     * Encodes text; special token strings in it are ordinary text unless allowSpecial. As in Hugging
     * Face tokenizers, added tokens are cut out first, the normalizer runs on the text between them, and
     * the pre-tokenizer (a prefix space included) on each stretch left.
     */
    public int[] encode(String text, boolean allowSpecial) {
        IntList out = new IntList();
        encodeAdded(text, 0, text.length(), allowSpecial, true, out);
        return out.toArray();
    }

    private void encodeAdded(String text, int from, int to, boolean allowSpecial, boolean prefixSpace, IntList out) {
        addedMatchers.split(added, text, from, to, allowSpecial, prefixSpace, new AddedVocabulary.Sink() {
            @Override
            public void text(String s, int a, int b, boolean atStart) {
                pre.split(s, a, b, prefixSpace, atStart, false, (p, x, y) -> encodePiece(p.substring(x, y), out));
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        });
    }

    /**
     * Encodes arbitrary bytes: maximal runs of valid UTF-8 are encoded as text (no special tokens, no
     * prefix space), and each byte of an invalid sequence becomes its single-byte token (SentencePiece-style:
     * its &lt;0xXX&gt; token, else the unknown token, else nothing), so a byte-level BPE's decodeBytes gives the input
     * back exactly (unless the normalizer changes text or the pre-tokenizer removes it).
     */
    public int[] encodeBytes(byte[] data) {
        IntList out = new IntList();
        int runStart = 0, i = 0;
        while (i < data.length) {
            int len = validSequenceLength(data, i);
            if (len > 0) {
                i += len;
                continue;
            }
            if (i > runStart) encodeRun(new String(data, runStart, i - runStart, StandardCharsets.UTF_8), out);
            int b = symbols.byteToken(data[i] & 0xFF);
            if (b >= 0) out.add(b);
            runStart = ++i;
        }
        if (i > runStart) encodeRun(new String(data, runStart, i - runStart, StandardCharsets.UTF_8), out);
        return out.toArray();
    }

    /** Length of the well-formed UTF-8 sequence at i (RFC 3629: no overlongs, no surrogates, at most U+10FFFF), or 0. */
    static int validSequenceLength(byte[] b, int i) {
        int c = b[i] & 0xFF;
        if (c < 0x80) return 1;
        int n, min;
        if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
        else return 0;
        if (i + n > b.length) return 0;
        int cp = c & (0xFF >> (n + 1));
        for (int k = 1; k < n; k++) {
            int cc = b[i + k] & 0xFF;
            if ((cc & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        return n;
    }

    private void encodeRun(String text, IntList out) {
        encodeAdded(text, 0, text.length(), false, false, out);
    }

    private void encodePiece(String piece, IntList out) {
        if (piece.length() > CACHED_PIECE_CHARS) {
            out.addAll(encodePiece(piece));
            return;
        }
        int[] cached = cache.get(piece);
        if (cached == null) {
            cached = encodePiece(piece);
            if (cache.size() < 1 << 18) cache.put(piece, cached);
        }
        out.addAll(cached);
    }

    /** The pieces the pre-tokenizer cuts text into (viaRegex: GPT-2's regex in place of the hand-written splitter, for the tests that hold one to the other). */
    java.util.List<String> pieces(String text, boolean viaRegex) {
        java.util.List<String> out = new ArrayList<>();
        pre.split(text, 0, text.length(), true, true, viaRegex, (s, a, b) -> out.add(s.substring(a, b)));
        return out;
    }

    /** BPE on one piece: repeatedly merge the adjacent pair of the lowest rank (the leftmost on a tie). */
    int[] encodePiece(String piece) {
        if (ignoreMerges) {
            Integer whole = symbols.whole(piece);
            if (whole != null) return new int[] {whole};
        }
        int[] parts = symbols.initial(piece);
        return parts.length > HEAP_MERGE_SYMBOLS ? mergeByHeap(parts) : merge(parts);
    }

    /** The merges on parts (changed), by scanning for the best pair after each merge. */
    int[] merge(int[] parts) {
        int n = parts.length;
        long[] pair = new long[Math.max(1, n - 1)]; // pair[i]: merge of parts i and i+1 (rank << 32 | id), or -1
        for (int i = 0; i + 1 < n; i++) pair[i] = merges.get(parts[i], parts[i + 1]);
        int len = n;
        while (len > 1) {
            int best = -1;
            long bestRank = Long.MAX_VALUE;
            for (int i = 0; i + 1 < len; i++) {
                long p = pair[i];
                if (p >= 0 && (p >>> 32) < bestRank) {
                    bestRank = p >>> 32;
                    best = i;
                }
            }
            if (best < 0) break;
            parts[best] = (int) pair[best];
            System.arraycopy(parts, best + 2, parts, best + 1, len - best - 2);
            if (best + 3 < len) System.arraycopy(pair, best + 2, pair, best + 1, len - best - 3);
            len--;
            if (best + 1 < len) pair[best] = merges.get(parts[best], parts[best + 1]);
            if (best > 0) pair[best - 1] = merges.get(parts[best - 1], parts[best]);
        }
        return java.util.Arrays.copyOf(parts, len);
    }

    /**
     * The same merges as {@link #merge}, for long pieces: the pairs wait in a binary heap ordered by rank, then by
     * the left symbol's first position (so the leftmost of equal ranks goes first, as the scan takes it), symbols
     * are a linked list, and an entry whose symbols have merged since it was queued is skipped when it comes up (its
     * pair no longer has its rank: a rank names one pair). O(n log n) where the scan costs O(n²).
     */
    int[] mergeByHeap(int[] parts) {
        int n = parts.length;
        int[] next = new int[n], prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        long[] heap = new long[Math.max(4, 2 * n)];
        int size = 0;
        for (int i = 0; i + 1 < n; i++) {
            long p = merges.get(parts[i], parts[i + 1]);
            if (p >= 0) size = push(heap, size, (p >>> 32) << 32 | i);
        }
        int len = n;
        while (size > 0) {
            long top = heap[0];
            size = pop(heap, size);
            int i = (int) top, j = next[i];
            if (parts[i] < 0 || j < 0) continue;
            long p = merges.get(parts[i], parts[j]);
            if (p < 0 || p >>> 32 != top >>> 32) continue; // stale: i or j merged with another since
            parts[i] = (int) p;
            parts[j] = -1;
            next[i] = next[j];
            if (next[j] >= 0) prev[next[j]] = i;
            len--;
            if (heap.length < size + 2) heap = java.util.Arrays.copyOf(heap, heap.length * 2);
            if (prev[i] >= 0) {
                long q = merges.get(parts[prev[i]], parts[i]);
                if (q >= 0) size = push(heap, size, (q >>> 32) << 32 | prev[i]);
            }
            if (next[i] >= 0) {
                long q = merges.get(parts[i], parts[next[i]]);
                if (q >= 0) size = push(heap, size, (q >>> 32) << 32 | i);
            }
        }
        int[] out = new int[len];
        for (int i = 0, k = 0; i >= 0 && k < len; i = next[i]) out[k++] = parts[i];
        return out;
    }

    private static int push(long[] heap, int size, long v) {
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= v) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = v;
        return size;
    }

    private static int pop(long[] heap, int size) {
        long last = heap[--size];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) break;
            if (c + 1 < size && heap[c + 1] < heap[c]) c++;
            if (heap[c] >= last) break;
            heap[i] = heap[c];
            i = c;
        }
        if (size > 0) heap[i] = last;
        return size;
    }

    /**
     * The two tokens BPE joins last to build this token: BPE on its bytes using only merges ranked
     * below the token's own stops at exactly two parts when the vocabulary is consistent.
     */
    byte[][] mergePair(byte[] token) {
        String s = key(token);
        int limit = ranks.get(s);
        int n = token.length, parts = n;
        int[] start = new int[n + 1];
        for (int i = 0; i <= n; i++) start[i] = i;
        while (parts > 2) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < parts; i++) {
                Integer r = ranks.get(s.substring(start[i], start[i + 2]));
                if (r != null && r < limit && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) break;
            System.arraycopy(start, best + 2, start, best + 1, parts - best - 1);
            parts--;
        }
        if (parts != 2) throw new IllegalStateException("token " + s + " cannot be built from two lower-ranked tokens");
        return new byte[][] {java.util.Arrays.copyOfRange(token, 0, start[1]), java.util.Arrays.copyOfRange(token, start[1], n)};
    }

    /**
     * The bytes the ids decode to: for byte-level BPE the bytes they stand for (any UTF-8 validity; tokens may split
     * characters), for BPE on characters {@link #decode}'s text.
     */
    public byte[] decodeBytes(int[] idsToDecode) {
        for (int id : idsToDecode) bytes(id);
        return symbols.decodeBytes(idsToDecode);
    }

    /**
     * The text the ids decode to, as Hugging Face tokenizers' decode gives it (special tokens kept): invalid UTF-8 becomes
     * U+FFFD; a SentencePiece-style decoder turns "▁" into spaces and drops the space its normalizer or Metaspace put
     * before the text (so the text differs from the tokens' bytes joined, {@link #bytes}, at its start).
     */
    public String decode(int[] idsToDecode) {
        for (int id : idsToDecode) bytes(id);
        return symbols.decode(idsToDecode);
    }

    /** Ordinary tokens in id order with their merge ranks, for writing tokenizer.json. */
    Map<Integer, byte[]> ordinary() {
        Map<Integer, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < tokenBytes.length; i++) if (tokenBytes[i] != null && !addedIds.containsValue(i)) m.put(i, tokenBytes[i]);
        return m;
    }

    /** A growable int array (no boxing on the encode path). */
    static final class IntList {
        private int[] a = new int[64];
        private int n;

        void add(int v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        void addAll(int[] vs) {
            if (n + vs.length > a.length) a = java.util.Arrays.copyOf(a, Math.max(a.length * 2, n + vs.length));
            System.arraycopy(vs, 0, a, n, vs.length);
            n += vs.length;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}
