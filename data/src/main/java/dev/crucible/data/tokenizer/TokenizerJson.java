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

/**
 * Hugging Face tokenizer.json for byte-level BPE (GPT-2, Llama 3 and the tokenizers Crucible trains):
 * model BPE with vocab and merges, a ByteLevel pre-tokenizer (alone, with GPT-2's regex, or after a
 * Split with its own regex), a ByteLevel decoder, and added tokens. Anything else is refused with
 * the file and the part named. Merge priority is taken by the merged bytes (as tiktoken does).
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
            throw new IOException(file + ": model type '" + model.path("type").asText("?") + "' is not supported (byte-level BPE is)");
        }
        if (!root.path("normalizer").isNull() && !root.path("normalizer").isMissingNode()) {
            throw new IOException(file + ": normalizer '" + root.path("normalizer").path("type").asText("?") + "' is not supported (byte-level BPE uses none)");
        }
        if (model.path("byte_fallback").asBoolean(false)) throw new IOException(file + ": byte_fallback (SentencePiece-style BPE) is not supported");
        String pattern = BpeTokenizer.GPT2_PATTERN;
        boolean prefixSpace = false;
        JsonNode pre = root.path("pre_tokenizer");
        List<JsonNode> steps = new ArrayList<>();
        if (pre.path("type").asText().equals("Sequence")) pre.path("pretokenizers").forEach(steps::add);
        else steps.add(pre);
        boolean byteLevel = false;
        for (JsonNode st : steps) {
            switch (st.path("type").asText("")) {
                case "ByteLevel" -> {
                    byteLevel = true;
                    prefixSpace = st.path("add_prefix_space").asBoolean(false);
                }
                case "Split" -> {
                    JsonNode re = st.path("pattern").path("Regex");
                    if (!re.isTextual()) throw new IOException(file + ": pre_tokenizer Split without a Regex pattern is not supported");
                    if (!st.path("behavior").asText("Isolated").equals("Isolated")) throw new IOException(file + ": Split behavior '" + st.path("behavior").asText() + "' is not supported (Isolated is)");
                    pattern = re.asText();
                }
                default -> throw new IOException(file + ": pre_tokenizer '" + st.path("type").asText("?") + "' is not supported");
            }
        }
        if (!byteLevel) throw new IOException(file + ": no ByteLevel pre_tokenizer: not a byte-level BPE");

        JsonNode vocab = model.get("vocab");
        Map<String, Integer> specials = new LinkedHashMap<>();
        int n = 0;
        for (var it = vocab.fields(); it.hasNext(); ) n = Math.max(n, it.next().getValue().asInt() + 1);
        for (JsonNode t : root.path("added_tokens")) {
            specials.put(t.path("content").asText(), t.path("id").asInt());
            n = Math.max(n, t.path("id").asInt() + 1);
        }
        byte[][] tokens = new byte[n][];
        for (var it = vocab.fields(); it.hasNext(); ) {
            var e = it.next();
            if (specials.containsKey(e.getKey())) continue;
            byte[] b = ByteLevel.decode(e.getKey());
            if (b == null) throw new IOException(file + ": vocab entry '" + e.getKey() + "' is not a byte-level token");
            int id = e.getValue().asInt();
            if (id < 0) throw new IOException(file + ": vocab entry '" + e.getKey() + "' has negative id " + id);
            tokens[id] = b;
        }
        specials.forEach((s, id) -> tokens[id] = s.getBytes(StandardCharsets.UTF_8));
        Map<String, Integer> ranks = new HashMap<>();
        int rank = 0;
        for (JsonNode m : model.path("merges")) {
            String left, right;
            if (m.isArray() && m.size() == 2) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) throw new IOException(file + ": merge " + rank + " '" + m.asText() + "' is not a pair");
                left = parts[0];
                right = parts[1];
            }
            byte[] l = ByteLevel.decode(left), r = ByteLevel.decode(right);
            if (l == null || r == null) throw new IOException(file + ": merge " + rank + " is not made of byte-level tokens");
            byte[] merged = new byte[l.length + r.length];
            System.arraycopy(l, 0, merged, 0, l.length);
            System.arraycopy(r, 0, merged, l.length, r.length);
            ranks.putIfAbsent(BpeTokenizer.key(merged), rank);
            rank++;
        }
        try {
            return new BpeTokenizer(pattern, tokens, ranks, specials, prefixSpace);
        } catch (IllegalArgumentException e) { // includes a bad regex (PatternSyntaxException)
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Writes t as a Hugging Face tokenizer.json (atomically). */
    public static void write(BpeTokenizer t, Path file) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        t.specials().forEach((s, id) -> added.addObject().put("id", id).put("content", s).put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", false).put("special", true));
        root.putNull("normalizer");
        ObjectNode byteLevel = JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", t.addPrefixSpace()).put("trim_offsets", true);
        if (t.pattern().equals(BpeTokenizer.GPT2_PATTERN)) {
            root.set("pre_tokenizer", byteLevel.deepCopy().put("use_regex", true));
        } else {
            ObjectNode seq = root.putObject("pre_tokenizer").put("type", "Sequence");
            ArrayNode steps = seq.putArray("pretokenizers");
            ObjectNode split = steps.addObject().put("type", "Split");
            split.putObject("pattern").put("Regex", t.pattern());
            split.put("behavior", "Isolated").put("invert", false);
            steps.add(byteLevel.deepCopy().put("use_regex", false));
        }
        root.set("post_processor", byteLevel.deepCopy().put("use_regex", true));
        root.set("decoder", byteLevel.deepCopy().put("use_regex", true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token").putNull("continuing_subword_prefix").putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        Map<Integer, byte[]> ordinary = t.ordinary();
        ordinary.forEach((id, b) -> vocab.put(ByteLevel.encode(b), id));
        // One merge per multi-byte token, in rank order: the pair BPE joins to make it.
        List<Map.Entry<Integer, byte[]>> byRank = new ArrayList<>();
        for (var e : ordinary.entrySet()) if (e.getValue().length > 1) byRank.add(e);
        byRank.sort((a, b) -> Integer.compare(t.rank(a.getValue()), t.rank(b.getValue())));
        ArrayNode merges = model.putArray("merges");
        for (var e : byRank) {
            byte[][] pair = t.mergePair(e.getValue());
            merges.addArray().add(ByteLevel.encode(pair[0])).add(ByteLevel.encode(pair[1]));
        }
        AtomicWrite.write(file, tmp -> JSON.writeValue(tmp.toFile(), root));
    }
}
