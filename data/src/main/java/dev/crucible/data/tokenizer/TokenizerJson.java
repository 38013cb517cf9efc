package dev.crucible.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crucible.io.AtomicWrite;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Hugging Face tokenizer.json for BPE: byte-level (GPT-2, Llama 3 and the tokenizers Crucible trains: a
 * pre-tokenizer of Split steps ending in ByteLevel, alone or in a Sequence) or on characters with byte fallback
 * (SentencePiece's, as transformers converts Llama 2's, Mistral's and Gemma's: Prepend and Replace normalizers or
 * a Metaspace pre-tokenizer, and a decoder of Replace, ByteFallback, Fuse, Strip or Metaspace steps); model BPE
 * with vocab and merges, Unicode normalizers, added tokens, and the special tokens a post_processor puts around
 * a text ({@link PostProcessor}). Tokens and merges are checked as tokenizers' deserializer checks them
 * (merges of tokens the vocab lacks, added-token ids it would assign otherwise), and anything Crucible
 * does not compute is refused, with the file and the key named.
 */
public final class TokenizerJson {
    private TokenizerJson() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    public static BpeTokenizer read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isObject()) throw new IOException(file + ": not a tokenizer.json object");
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText("BPE")) || !model.has("vocab")) {
            throw new IOException(file + ": model type '" + model.path("type").asText("?") + "' is not supported (BPE is)");
        }
        List<TextNormalizer.Step> normalization = new ArrayList<>();
        normalizer(file, root.path("normalizer"), "normalizer", normalization);
        for (String key : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonNode v = model.get(key);
            if (v != null && !v.isNull() && !v.asText().isEmpty()) throw new IOException(file + ": model." + key + " " + v + " is not supported");
        }
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && !(dropout.isNumber() && dropout.asDouble() == 0)) throw new IOException(file + ": model.dropout " + dropout + " is not supported");
        JsonNode ignore = model.get("ignore_merges");
        if (ignore != null && !ignore.isNull() && !ignore.isBoolean()) throw new IOException(file + ": model.ignore_merges must be true or false, got " + ignore);
        boolean ignoreMerges = ignore != null && ignore.asBoolean(false); // tokenizers' default is false
        PreTokenizer pre = preTokenizer(file, root.path("pre_tokenizer"));
        boolean onBytes = pre.byteLevel() != null;
        for (String key : new String[] {"byte_fallback", "fuse_unk"}) {
            JsonNode v = model.get(key);
            if (v != null && !v.isNull() && !v.isBoolean()) throw new IOException(file + ": model." + key + " must be true or false, got " + v);
        }
        boolean byteFallback = model.path("byte_fallback").asBoolean(false); // byte-level BPE never falls back: every byte is a token
        JsonNode unkNode = model.get("unk_token");
        if (unkNode != null && !unkNode.isNull() && !unkNode.isTextual()) throw new IOException(file + ": model.unk_token must be a string, got " + unkNode);
        String unkToken = unkNode == null || unkNode.isNull() ? null : unkNode.asText();

        JsonNode vocab = model.get("vocab");
        if (!vocab.isObject()) throw new IOException(file + ": model.vocab is not an object");
        JsonNode added = root.get("added_tokens");
        if (added != null && !added.isNull() && !added.isArray()) throw new IOException(file + ": added_tokens is not an array");
        int addedCount = added == null ? 0 : added.size();
        // ids index an array, so they must number the tokens (holes allowed) rather than reach anywhere
        long limit = (long) vocab.size() + addedCount;
        Map<String, Integer> vocabIds = new HashMap<>();
        Map<Integer, String> byId = new HashMap<>();
        for (var it = vocab.fields(); it.hasNext(); ) {
            var e = it.next();
            int id = tokenId(e.getValue(), limit);
            if (id < 0) throw new IOException(file + ": model.vocab['" + e.getKey() + "'] has id " + e.getValue() + ", not an integer in [0, " + limit + ")");
            String other = byId.put(id, e.getKey());
            if (other != null) throw new IOException(file + ": model.vocab gives id " + id + " to both '" + other + "' and '" + e.getKey() + "'");
            vocabIds.put(e.getKey(), id);
        }
        Map<String, Integer> specials = new LinkedHashMap<>(); // every added token, special or not
        List<AddedVocabulary.Token> flagged = new ArrayList<>();
        int nextId = vocab.size(); // tokenizers gives an added token its vocab id, else the next one after the vocab's size
        for (int i = 0; i < addedCount; i++) {
            JsonNode t = added.get(i);
            String where = "added_tokens[" + i + "]";
            if (!t.isObject() || !t.path("content").isTextual()) throw new IOException(file + ": " + where + " has no content string");
            String content = t.get("content").asText();
            if (content.isEmpty()) continue; // tokenizers skips it (it would match between any two characters)
            for (String flag : new String[] {"single_word", "lstrip", "rstrip"}) {
                if (t.path(flag).asBoolean(false)) throw new IOException(file + ": " + where + "." + flag + " true ('" + content + "') is not supported");
            }
            int id = tokenId(t.get("id"), limit);
            if (id < 0) throw new IOException(file + ": " + where + ".id " + t.get("id") + " ('" + content + "') is not an integer in [0, " + limit + ")");
            Integer expected = specials.get(content);
            if (expected == null) expected = vocabIds.get(content);
            String why = "its id in model.vocab or an earlier added token";
            if (expected == null) {
                expected = nextId++;
                why = "the next id after the vocabulary and the added tokens before it";
            }
            if (id != expected) {
                throw new IOException(file + ": " + where + ".id " + id + " ('" + content + "') is not the id Hugging Face tokenizers gives it, " + expected + " (" + why + ")");
            }
            if (byId.containsKey(id) && !byId.get(id).equals(content)) throw new IOException(file + ": " + where + ".id " + id + " ('" + content + "') is model.vocab's id of '" + byId.get(id) + "'");
            for (String flag : new String[] {"special", "normalized"}) {
                if (t.has(flag) && !t.get(flag).isBoolean()) throw new IOException(file + ": " + where + "." + flag + " must be true or false, got " + t.get(flag));
            }
            boolean special = t.path("special").asBoolean(false); // tokenizers' defaults: not special, normalized unless special
            if (!specials.containsKey(content)) flagged.add(new AddedVocabulary.Token(content, id, special, t.path("normalized").asBoolean(!special)));
            specials.put(content, id);
        }
        int n = 0;
        for (int id : byId.keySet()) n = Math.max(n, id + 1);
        for (int id : specials.values()) n = Math.max(n, id + 1);
        byte[][] tokens = new byte[n][];
        TokenDecoder decoder = onBytes ? null : decoder(file, root.path("decoder"));
        for (var e : vocabIds.entrySet()) {
            if (specials.containsKey(e.getKey())) continue;
            byte[] b = onBytes ? ByteLevel.decode(e.getKey()) : decoder.bytes(e.getKey());
            if (b == null) throw new IOException(file + ": vocab entry '" + e.getKey() + "' is not a byte-level token");
            tokens[e.getValue()] = b;
        }
        specials.forEach((s, id) -> tokens[id] = s.getBytes(StandardCharsets.UTF_8));

        JsonNode ms = model.get("merges");
        if (ms == null || !ms.isArray()) throw new IOException(file + ": model.merges is missing or not an array");
        int[][] mergeList = new int[ms.size()][];
        Map<String, Integer> ranks = new HashMap<>();
        for (int rank = 0; rank < ms.size(); rank++) {
            JsonNode m = ms.get(rank);
            String where = "model.merges[" + rank + "]";
            String left, right;
            if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                String[] parts = m.isTextual() ? m.asText().split(" ", -1) : new String[0];
                if (parts.length != 2) throw new IOException(file + ": " + where + " " + m + " is not a pair");
                left = parts[0];
                right = parts[1];
            }
            int[] pair = new int[3];
            String[] names = {left, right, left + right};
            for (int k = 0; k < 3; k++) {
                Integer id = vocabIds.get(names[k]);
                if (id == null) throw new IOException(file + ": " + where + " [" + left + ", " + right + "]: '" + names[k] + "' is not in model.vocab");
                if (specials.containsKey(names[k])) throw new IOException(file + ": " + where + " [" + left + ", " + right + "]: '" + names[k] + "' is an added token");
                pair[k] = id;
            }
            mergeList[rank] = pair; // a pair listed twice takes its later rank, as in tokenizers' merge map
            if (onBytes) ranks.putIfAbsent(BpeTokenizer.key(tokens[pair[2]]), rank);
        }
        JsonNode postNode = root.path("post_processor");
        PostProcessor post = postProcessor(file, postNode, "post_processor", tokens);
        if (!postNode.isMissingNode() && !postNode.isNull()) post = post.readFrom(postNode.toString());
        AddedVocabulary addedVocabulary = new AddedVocabulary(flagged, new TextNormalizer(normalization));
        try {
            if (onBytes) return new BpeTokenizer(pre, tokens, ranks, addedVocabulary, ignoreMerges, mergeList, post); // byte-level BPE needs no unknown token
            Symbols.Chars chars = characters(file, vocabIds, specials, n, byteFallback, unkToken, model.path("fuse_unk").asBoolean(false), decoder);
            return new BpeTokenizer(pre, tokens, chars, addedVocabulary, ignoreMerges, mergeList, post);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * What BPE on characters starts a word from: the vocabulary's characters, the byte tokens &lt;0x00&gt; to &lt;0xFF&gt;
     * (those it has), the unknown token; and each token's text, for the decoder. An unknown token the vocabulary lacks is
     * refused where it could be needed (byte tokens missing), and otherwise never used, as tokenizers only fails on it
     * when a character needs it.
     */
    private static Symbols.Chars characters(Path file, Map<String, Integer> vocab, Map<String, Integer> added, int n, boolean byteFallback, String unkToken,
                                            boolean fuseUnk, TokenDecoder decoder) throws IOException {
        int[] bytes = null;
        if (byteFallback) {
            bytes = new int[256];
            for (int b = 0; b < 256; b++) bytes[b] = vocab.getOrDefault(String.format("<0x%02X>", b), -1);
        }
        boolean everyByte = bytes != null && java.util.Arrays.stream(bytes).allMatch(id -> id >= 0);
        Integer unk = unkToken == null ? null : vocab.get(unkToken);
        if (unkToken != null && unk == null && !everyByte) {
            throw new IOException(file + ": model.unk_token '" + unkToken + "' is not in model.vocab, and a character without a token of its own"
                    + (byteFallback ? " or byte tokens for all its bytes" : "") + " would need it");
        }
        String[] strings = new String[n];
        vocab.forEach((s, id) -> strings[id] = s);
        added.forEach((s, id) -> strings[id] = s);
        return new Symbols.Chars(Map.copyOf(vocab), bytes, unk == null ? -1 : unk, fuseUnk, strings, decoder);
    }

    /**
     * A decoder for BPE on characters: Replace (a string or a regex), ByteFallback, Fuse, Strip, Metaspace, or a Sequence
     * of them; none joins the tokens with spaces, as tokenizers does. Any other type is refused by name.
     */
    private static TokenDecoder decoder(Path file, JsonNode n) throws IOException {
        if (n.isMissingNode() || n.isNull()) return new TokenDecoder(List.of(), true);
        List<TokenDecoder.Step> steps = new ArrayList<>();
        decoderSteps(file, n, "decoder", steps);
        return new TokenDecoder(steps, false);
    }

    private static void decoderSteps(Path file, JsonNode n, String where, List<TokenDecoder.Step> steps) throws IOException {
        String type = n.path("type").asText("?");
        switch (type) {
            case "Sequence" -> {
                JsonNode list = n.get("decoders");
                if (list == null || !list.isArray()) throw new IOException(file + ": " + where + ".decoders is missing or not an array");
                for (int i = 0; i < list.size(); i++) decoderSteps(file, list.get(i), where + ".decoders[" + i + "]", steps);
            }
            case "Replace" -> steps.add(replace(file, n, where));
            case "ByteFallback" -> steps.add(new TokenDecoder.ByteFallback());
            case "Fuse" -> steps.add(new TokenDecoder.Fuse());
            case "Strip" -> {
                int content = oneCharacter(file, n.get("content"), where + ".content");
                JsonNode start = n.get("start"), stop = n.get("stop");
                if (start == null || !start.canConvertToInt() || start.asInt() < 0 || stop == null || !stop.canConvertToInt() || stop.asInt() < 0) {
                    throw new IOException(file + ": " + where + ".start and .stop must be counts, got " + start + " and " + stop);
                }
                steps.add(new TokenDecoder.Strip(content, start.asInt(), stop.asInt()));
            }
            case "ByteLevel" -> throw new IOException(file + ": " + where + " is ByteLevel but the pre_tokenizer is not: byte-level BPE needs both");
            case "Metaspace" -> {
                PreTokenizer.Metaspace m = metaspace(file, n, where);
                steps.add(new TokenDecoder.Metaspace(m.replacement(), m.prepend() != PreTokenizer.PrependScheme.NEVER));
            }
            default -> throw new IOException(file + ": " + where + ".type '" + type + "' is not supported for BPE on characters (Replace, ByteFallback, Fuse, Strip, "
                    + "Metaspace or a Sequence of them are)");
        }
    }

    /** Replace, as a normalizer or a decoder writes it: pattern {"String": s} or {"Regex": r}, content. */
    private static TextNormalizer.Replace replace(Path file, JsonNode n, String where) throws IOException {
        JsonNode pattern = n.path("pattern"), content = n.get("content");
        boolean literal = pattern.has("String");
        JsonNode text = literal ? pattern.get("String") : pattern.get("Regex");
        if (text == null || !text.isTextual() || pattern.size() != 1) throw new IOException(file + ": " + where + ".pattern must be {\"String\": ...} or {\"Regex\": ...}, got " + pattern);
        if (content == null || !content.isTextual()) throw new IOException(file + ": " + where + ".content must be a string, got " + content);
        if (literal && text.asText().isEmpty()) throw new IOException(file + ": " + where + ".pattern is the empty string");
        try {
            return new TextNormalizer.Replace(text.asText(), !literal, content.asText());
        } catch (PatternSyntaxException e) {
            throw new IOException(file + ": " + where + ".pattern.Regex does not compile: " + e.getMessage(), e);
        }
    }

    /**
     * Metaspace's replacement (one character), prepend_scheme (always, first or never; absent: always) and split (absent:
     * true), as tokenizers reads them; add_prefix_space, which files before tokenizers 0.19 wrote, must agree (false only
     * with never).
     */
    private static PreTokenizer.Metaspace metaspace(Path file, JsonNode n, String where) throws IOException {
        int replacement = oneCharacter(file, n.get("replacement"), where + ".replacement");
        JsonNode scheme = n.get("prepend_scheme"), prefix = n.get("add_prefix_space"), split = n.get("split");
        PreTokenizer.PrependScheme p = PreTokenizer.PrependScheme.ALWAYS;
        if (scheme != null && !scheme.isNull()) {
            p = switch (scheme.asText()) {
                case "always" -> PreTokenizer.PrependScheme.ALWAYS;
                case "first" -> PreTokenizer.PrependScheme.FIRST;
                case "never" -> PreTokenizer.PrependScheme.NEVER;
                default -> throw new IOException(file + ": " + where + ".prepend_scheme " + scheme + " is not always, first or never");
            };
        }
        if (prefix != null && !prefix.isNull() && !prefix.isBoolean()) throw new IOException(file + ": " + where + ".add_prefix_space must be true or false, got " + prefix);
        if (prefix != null && !prefix.asBoolean(true) && p != PreTokenizer.PrependScheme.NEVER) {
            throw new IOException(file + ": " + where + ".add_prefix_space false does not match prepend_scheme " + p.name().toLowerCase(java.util.Locale.ROOT));
        }
        if (split != null && !split.isBoolean()) throw new IOException(file + ": " + where + ".split must be true or false, got " + split);
        return new PreTokenizer.Metaspace(replacement, p, split == null || split.asBoolean());
    }

    private static int oneCharacter(Path file, JsonNode v, String where) throws IOException {
        if (v == null || !v.isTextual() || v.asText().codePointCount(0, v.asText().length()) != 1) throw new IOException(file + ": " + where + " must be one character, got " + v);
        return v.asText().codePointAt(0);
    }

    /** A token id below limit, or -1. */
    private static int tokenId(JsonNode v, long limit) {
        return v != null && v.isIntegralNumber() && v.canConvertToLong() && v.asLong() >= 0 && v.asLong() < limit ? (int) v.asLong() : -1;
    }

    /**
     * The special tokens a post_processor puts around one text: none (null, ByteLevel), TemplateProcessing's
     * single template, BertProcessing's and RobertaProcessing's cls and sep, or a Sequence of them; any other
     * type refused by name. Every special token's ids must be tokens of this tokenizer.
     */
    private static PostProcessor postProcessor(Path file, JsonNode n, String where, byte[][] tokens) throws IOException {
        if (n.isMissingNode() || n.isNull()) return PostProcessor.NONE;
        String type = n.path("type").asText("");
        switch (type) {
            case "ByteLevel" -> {
                return PostProcessor.NONE;
            }
            case "Sequence" -> {
                JsonNode list = n.get("processors");
                if (list == null || !list.isArray()) throw new IOException(file + ": " + where + ".processors is missing or not an array");
                PostProcessor all = PostProcessor.NONE;
                for (int i = 0; i < list.size(); i++) all = all.then(postProcessor(file, list.get(i), where + ".processors[" + i + "]", tokens));
                return all;
            }
            case "BertProcessing", "RobertaProcessing" -> {
                return new PostProcessor(new int[] {pairedToken(file, n, where, "cls", tokens)}, new int[] {pairedToken(file, n, where, "sep", tokens)});
            }
            case "TemplateProcessing" -> {
                return template(file, n, where, tokens);
            }
            default -> throw new IOException(file + ": " + where + ".type '" + type + "' is not supported (ByteLevel, TemplateProcessing, BertProcessing, "
                    + "RobertaProcessing or a Sequence of them are)");
        }
    }

    /** BertProcessing's and RobertaProcessing's cls or sep: [token, id]. */
    private static int pairedToken(Path file, JsonNode n, String where, String key, byte[][] tokens) throws IOException {
        JsonNode v = n.get(key);
        if (v == null || !v.isArray() || v.size() != 2 || !v.get(0).isTextual()) throw new IOException(file + ": " + where + "." + key + " must be [token, id], got " + v);
        return specialId(file, v.get(1), where + "." + key + "[1]", tokens);
    }

    /**
     * TemplateProcessing's single template: pieces {"SpecialToken": {"id": name}} and one {"Sequence": {"id": "A"}},
     * each special token's ids from special_tokens[name].ids (several, for a name that stands for several tokens).
     */
    private static PostProcessor template(Path file, JsonNode n, String where, byte[][] tokens) throws IOException {
        JsonNode single = n.get("single"), specials = n.path("special_tokens");
        if (single == null || !single.isArray()) throw new IOException(file + ": " + where + ".single is missing or not an array of pieces");
        List<Integer> prefix = new ArrayList<>(), suffix = new ArrayList<>();
        boolean seen = false;
        for (int i = 0; i < single.size(); i++) {
            JsonNode piece = single.get(i);
            String at = where + ".single[" + i + "]";
            if (piece.has("Sequence") && piece.size() == 1) {
                String id = piece.get("Sequence").path("id").asText("");
                if (!id.equals("A")) throw new IOException(file + ": " + at + " is sequence '" + id + "': a single text's template has sequence A only");
                if (seen) throw new IOException(file + ": " + at + ": sequence A a second time (the text twice) is not supported");
                seen = true;
            } else if (piece.has("SpecialToken") && piece.size() == 1) {
                String name = piece.get("SpecialToken").path("id").asText(null);
                JsonNode special = name == null ? null : specials.get(name);
                if (special == null) throw new IOException(file + ": " + at + ": special token " + piece.get("SpecialToken").get("id") + " is not in " + where + ".special_tokens");
                JsonNode ids = special.get("ids"), names = special.get("tokens");
                if (ids == null || !ids.isArray() || names == null || !names.isArray() || ids.size() != names.size()) {
                    throw new IOException(file + ": " + where + ".special_tokens['" + name + "'] must have ids and tokens of the same length");
                }
                for (int k = 0; k < ids.size(); k++) {
                    (seen ? suffix : prefix).add(specialId(file, ids.get(k), where + ".special_tokens['" + name + "'].ids[" + k + "]", tokens));
                }
            } else {
                throw new IOException(file + ": " + at + " " + piece + " is neither {\"SpecialToken\": ...} nor {\"Sequence\": ...}");
            }
        }
        if (!seen) throw new IOException(file + ": " + where + ".single has no sequence A (the text itself)");
        return new PostProcessor(prefix.stream().mapToInt(Integer::intValue).toArray(), suffix.stream().mapToInt(Integer::intValue).toArray());
    }

    /** A special token's id, which must be a token of this tokenizer. */
    private static int specialId(Path file, JsonNode v, String where, byte[][] tokens) throws IOException {
        int id = tokenId(v, tokens.length);
        if (id < 0 || tokens[id] == null) throw new IOException(file + ": " + where + " " + v + " is not a token id of this tokenizer (" + tokens.length + " tokens)");
        return id;
    }

    /** A normalizer: none (null), NFC, NFD, NFKC, NFKD, Prepend, Replace, or a Sequence of them; any other refused by name. */
    private static void normalizer(Path file, JsonNode n, String where, List<TextNormalizer.Step> steps) throws IOException {
        if (n.isMissingNode() || n.isNull()) return;
        String type = n.path("type").asText("?");
        if (type.equals("Sequence")) {
            JsonNode list = n.get("normalizers");
            if (list == null || !list.isArray()) throw new IOException(file + ": " + where + ".normalizers is missing or not an array");
            for (int i = 0; i < list.size(); i++) normalizer(file, list.get(i), where + ".normalizers[" + i + "]", steps);
            return;
        }
        if (type.equals("Prepend")) {
            JsonNode prepend = n.get("prepend");
            if (prepend == null || !prepend.isTextual()) throw new IOException(file + ": " + where + ".prepend must be a string, got " + prepend);
            steps.add(new TextNormalizer.Prepend(prepend.asText()));
            return;
        }
        if (type.equals("Replace")) {
            steps.add(replace(file, n, where));
            return;
        }
        java.text.Normalizer.Form f = TextNormalizer.form(type);
        if (f == null) throw new IOException(file + ": " + where + " '" + type + "' is not supported (NFC, NFD, NFKC, NFKD, Prepend, Replace and Sequences of them are)");
        steps.add(new TextNormalizer.Unicode(f));
    }

    /** Split steps, then ByteLevel (byte-level BPE), Metaspace or nothing (BPE on characters); none at all for the latter. */
    private static PreTokenizer preTokenizer(Path file, JsonNode pre) throws IOException {
        List<PreTokenizer.Step> steps = new ArrayList<>();
        if (!pre.isMissingNode() && !pre.isNull()) steps(file, pre, "pre_tokenizer", steps);
        return new PreTokenizer(steps);
    }

    private static void steps(Path file, JsonNode st, String where, List<PreTokenizer.Step> steps) throws IOException {
        // ByteLevel and Metaspace end a pre-tokenizer: they hand on pieces in their own alphabet (Ġ or ▁ for a space), which a later step would see
        String last = steps.isEmpty() || steps.getLast() instanceof PreTokenizer.Split ? null : steps.getLast() instanceof PreTokenizer.Metaspace ? "Metaspace" : "ByteLevel";
        String type = st.path("type").asText("?");
        switch (type) {
            case "Sequence" -> {
                JsonNode list = st.get("pretokenizers");
                if (list == null || !list.isArray()) throw new IOException(file + ": " + where + ".pretokenizers is missing or not an array");
                for (int i = 0; i < list.size(); i++) steps(file, list.get(i), where + ".pretokenizers[" + i + "]", steps);
            }
            case "Metaspace" -> {
                if (last != null) throw new IOException(file + ": " + where + ": Metaspace after " + last + " is not supported");
                steps.add(metaspace(file, st, where));
            }
            case "ByteLevel" -> {
                if (last != null) throw new IOException(file + ": " + where + ": ByteLevel after " + last + " is not supported");
                JsonNode prefix = st.get("add_prefix_space"), regex = st.get("use_regex");
                if (prefix == null || !prefix.isBoolean()) throw new IOException(file + ": " + where + ".add_prefix_space must be true or false, got " + prefix);
                if (regex != null && !regex.isBoolean()) throw new IOException(file + ": " + where + ".use_regex must be true or false, got " + regex);
                steps.add(new PreTokenizer.ByteLevelStep(prefix.asBoolean(), regex == null || regex.asBoolean()));
            }
            case "Split" -> {
                if (last != null) throw new IOException(file + ": " + where + ": Split after " + last + " is not supported");
                JsonNode pattern = st.path("pattern"), behavior = st.get("behavior"), invert = st.get("invert");
                boolean literal = pattern.has("String");
                JsonNode text = literal ? pattern.get("String") : pattern.get("Regex");
                if (text == null || !text.isTextual() || pattern.size() != 1) throw new IOException(file + ": " + where + ".pattern must be {\"Regex\": ...} or {\"String\": ...}, got " + pattern);
                PreTokenizer.Behavior b = behavior == null ? null : PreTokenizer.Behavior.parse(behavior.asText());
                if (b == null) throw new IOException(file + ": " + where + ".behavior " + behavior + " is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
                if (invert == null || !invert.isBoolean()) throw new IOException(file + ": " + where + ".invert must be true or false, got " + invert);
                if (!literal) {
                    try {
                        Pattern.compile(text.asText(), Pattern.UNICODE_CHARACTER_CLASS);
                    } catch (PatternSyntaxException e) {
                        throw new IOException(file + ": " + where + ".pattern.Regex does not compile: " + e.getMessage(), e);
                    }
                }
                steps.add(new PreTokenizer.Split(text.asText(), literal, b, invert.asBoolean()));
            }
            default -> throw new IOException(file + ": " + where + " '" + type + "' is not supported");
        }
    }

    /** Writes t as a Hugging Face tokenizer.json (atomically). */
    public static void write(BpeTokenizer t, Path file) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        Map<String, Integer> vocabulary = t.symbols().vocabulary();
        ArrayNode added = root.putArray("added_tokens");
        // tokenizers gives an added token its vocab id, else numbers it on from the vocabulary's size, in the order listed
        int next = vocabulary.size();
        for (AddedVocabulary.Token a : t.added().tokens()) {
            Integer expected = vocabulary.get(a.content());
            if (expected == null) expected = next++;
            if (a.id() != expected) {
                throw new IOException(file + ": Hugging Face tokenizers would read added token '" + a.content() + "' as id " + expected + ", not " + a.id()
                        + " (it numbers added tokens on from the vocabulary's " + vocabulary.size() + " tokens; a tokenizer with unused ids cannot be written)");
            }
            added.addObject().put("id", a.id()).put("content", a.content()).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", a.normalized()).put("special", a.special());
        }
        root.set("normalizer", sequence("normalizers", t.added().normalizer().steps().stream().map(TokenizerJson::normalizerJson).toList()));
        root.set("pre_tokenizer", sequence("pretokenizers", t.preTokenizer().steps().stream().map(TokenizerJson::preTokenizerJson).toList()));
        boolean onBytes = t.symbols() instanceof Symbols.Bytes;
        ObjectNode byteLevel = JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", t.addPrefixSpace()).put("trim_offsets", true)
                .put("use_regex", true);
        String post = t.postProcessor().source(); // a tokenizer read from tokenizer.json keeps its post_processor as it was
        root.set("post_processor", post != null ? JSON.readTree(post) : onBytes ? byteLevel : null);
        ObjectNode model = JSON.createObjectNode().put("type", "BPE").putNull("dropout").putNull("unk_token").putNull("continuing_subword_prefix")
                .putNull("end_of_word_suffix");
        switch (t.symbols()) {
            case Symbols.Bytes b -> {
                root.set("decoder", byteLevel);
                model.put("fuse_unk", false).put("byte_fallback", false);
            }
            case Symbols.Chars c -> {
                TokenDecoder d = c.decoder();
                root.set("decoder", d.joinWithSpaces() ? null : sequence("decoders", d.steps().stream().map(TokenizerJson::decoderJson).toList()));
                if (c.unk() >= 0) model.put("unk_token", c.strings()[c.unk()]);
                model.put("fuse_unk", c.fuseUnk()).put("byte_fallback", c.byteFallback() != null);
            }
        }
        root.set("model", model);
        model.put("ignore_merges", t.ignoreMerges());
        ObjectNode vocab = model.putObject("vocab");
        vocabulary.entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> vocab.put(e.getKey(), e.getValue()));
        ArrayNode merges = model.putArray("merges");
        if (t.mergeList() != null) { // as read: the pairs and their order are what ranks them
            for (int[] m : t.mergeList()) merges.addArray().add(t.symbols().spelling(m[0])).add(t.symbols().spelling(m[1]));
        } else {
            // Byte-level BPE trained here or from tiktoken: one merge per multi-byte token, in rank order, the pair BPE joins to make it.
            List<Map.Entry<Integer, byte[]>> byRank = new ArrayList<>();
            for (var e : t.ordinary().entrySet()) if (e.getValue().length > 1) byRank.add(e);
            byRank.sort((a, b) -> Integer.compare(t.rank(a.getValue()), t.rank(b.getValue())));
            for (var e : byRank) {
                byte[][] pair = t.mergePair(e.getValue());
                merges.addArray().add(ByteLevel.encode(pair[0])).add(ByteLevel.encode(pair[1]));
            }
        }
        AtomicWrite.write(file, tmp -> JSON.writeValue(tmp.toFile(), root));
    }

    /** None (null), the one step, or a Sequence of them under key. */
    private static JsonNode sequence(String key, List<ObjectNode> steps) {
        if (steps.isEmpty()) return JSON.nullNode();
        if (steps.size() == 1) return steps.getFirst();
        ObjectNode seq = JSON.createObjectNode().put("type", "Sequence");
        seq.putArray(key).addAll(steps);
        return seq;
    }

    private static ObjectNode preTokenizerJson(PreTokenizer.Step step) {
        ObjectNode n = JSON.createObjectNode();
        switch (step) {
            case PreTokenizer.Split sp -> {
                n.put("type", "Split").putObject("pattern").put(sp.literal() ? "String" : "Regex", sp.pattern());
                n.put("behavior", sp.behavior().json).put("invert", sp.invert());
            }
            case PreTokenizer.ByteLevelStep b -> n.put("type", "ByteLevel").put("add_prefix_space", b.addPrefixSpace()).put("trim_offsets", true)
                    .put("use_regex", b.useRegex());
            case PreTokenizer.Metaspace m -> n.put("type", "Metaspace").put("replacement", Character.toString(m.replacement()))
                    .put("prepend_scheme", m.prepend().name().toLowerCase(java.util.Locale.ROOT)).put("split", m.split());
        }
        return n;
    }

    private static ObjectNode decoderJson(TokenDecoder.Step step) {
        ObjectNode n = JSON.createObjectNode();
        switch (step) {
            case TextNormalizer.Replace r -> {
                return normalizerJson(r);
            }
            case TokenDecoder.ByteFallback b -> n.put("type", "ByteFallback");
            case TokenDecoder.Fuse f -> n.put("type", "Fuse");
            case TokenDecoder.Strip st -> n.put("type", "Strip").put("content", Character.toString(st.content())).put("start", st.start()).put("stop", st.stop());
            // decoding tells "first" from "always" in nothing
            case TokenDecoder.Metaspace m -> n.put("type", "Metaspace").put("replacement", Character.toString(m.replacement()))
                    .put("prepend_scheme", m.dropInFirst() ? "always" : "never").put("split", true);
        }
        return n;
    }

    private static ObjectNode normalizerJson(TextNormalizer.Step step) {
        ObjectNode n = JSON.createObjectNode();
        switch (step) {
            case TextNormalizer.Unicode u -> n.put("type", u.form().name());
            case TextNormalizer.Prepend p -> n.put("type", "Prepend").put("prepend", p.prepend());
            case TextNormalizer.Replace r -> {
                n.put("type", "Replace").putObject("pattern").put(r.regex() ? "Regex" : "String", r.pattern());
                n.put("content", r.content());
            }
        }
        return n;
    }
}
