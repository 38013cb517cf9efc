package dev.crucible.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Crucible's reading of tokenizer.json against Hugging Face tokenizers' own output (cases.json, written
 * by make_cases.py with tokenizers installed): the ids of each text and the pieces the pre-tokenizer
 * cuts it into, for Split with every delimiter behaviour (inverted or not, a literal or a regex that
 * also matches the empty string), Sequences of several Splits, ByteLevel with and without its regex and
 * prefix space (put before each stretch of text between added tokens), and ignore_merges true or
 * absent (tokenizers' default, false) on a vocabulary where merging does not reach a whole-piece token.
 */
class HfParityTest {
    /** The cases of the tokenizers whose names start with one of prefixes, as "tokenizer 'text': ours vs Hugging Face's" for each that differs. */
    static List<String> differences(String... prefixes) throws IOException, URISyntaxException {
        Path dir = Path.of(HfParityTest.class.getResource("/tokenizer/hf/cases.json").toURI()).getParent();
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("cases.json").toFile()).get("cases");
        Map<String, BpeTokenizer> tokenizers = new HashMap<>();
        List<String> wrong = new ArrayList<>();
        int compared = 0;
        for (JsonNode c : cases) {
            String name = c.get("tokenizer").asText(), text = c.get("text").asText();
            if (Arrays.stream(prefixes).noneMatch(name::startsWith)) continue;
            if (!tokenizers.containsKey(name)) {
                try {
                    tokenizers.put(name, TokenizerJson.read(dir.resolve(name + ".json")));
                } catch (IOException e) {
                    tokenizers.put(name, null);
                    wrong.add(name + ": " + e.getMessage());
                }
            }
            BpeTokenizer t = tokenizers.get(name);
            compared++;
            if (t == null) continue;
            int[] ids = new int[c.get("ids").size()];
            for (int i = 0; i < ids.length; i++) ids[i] = c.get("ids").get(i).asInt();
            List<String> pieces = new ArrayList<>();
            c.get("pieces").forEach(p -> pieces.add(p.asText()));
            List<String> ours = t.pieces(text, false).stream().map(p -> ByteLevel.encode(p.getBytes(StandardCharsets.UTF_8))).toList();
            int[] ourIds = t.encode(text, true);
            if (!Arrays.equals(ids, ourIds) || !pieces.equals(ours)) {
                wrong.add(name + " '" + text + "': ids " + Arrays.toString(ourIds) + " pieces " + ours + ", Hugging Face's " + Arrays.toString(ids) + " " + pieces);
            }
            JsonNode asText = c.get("ids_specials_as_text"); // tokenizers' encode_special_tokens: Crucible's encode(text, false)
            if (asText != null) {
                int[] expected = new int[asText.size()];
                for (int i = 0; i < expected.length; i++) expected[i] = asText.get(i).asInt();
                int[] ourPlain = t.encode(text, false);
                if (!Arrays.equals(expected, ourPlain)) {
                    wrong.add(name + " '" + text + "' with special tokens as text: ids " + Arrays.toString(ourPlain) + ", Hugging Face's " + Arrays.toString(expected));
                }
            }
        }
        assertTrue(compared >= 14, "cases for " + Arrays.toString(prefixes) + ": " + compared);
        return wrong;
    }

    static void same(String... prefixes) throws IOException, URISyntaxException {
        List<String> wrong = differences(prefixes);
        assertTrue(wrong.isEmpty(), wrong.size() + " cases differ:\n" + String.join("\n", wrong));
    }

    /** Split keeps the text between matches (Isolated), every behaviour and invert as tokenizers applies them, every Split of a Sequence, ByteLevel's use_regex. */
    @Test
    void splitBehavioursSequencesAndByteLevelRegex() throws IOException, URISyntaxException {
        same("split-", "regex-", "two-splits", "isolated-digits", "no-regex");
        BpeTokenizer digits = TokenizerJson.read(Path.of(HfParityTest.class.getResource("/tokenizer/hf/isolated-digits.json").toURI()));
        assertEquals("ab12c", digits.decode(digits.encode("ab12c", true)), "text between the matches is not lost");
    }

    /** add_prefix_space puts a space before each stretch of text the added tokens leave (and, after a Split, before each of its pieces), not before the whole text. */
    @Test
    void prefixSpaceGoesBeforeEachPieceAfterAddedTokensAreCut() throws IOException, URISyntaxException {
        same("prefix", "removed-prefix");
    }

    /** Without ignore_merges (tokenizers' default: false) a piece is merged up to, never looked up whole: "abc" is [a, bc] when the merges never join a and bc. */
    @Test
    void ignoreMergesIsReadAndFalseUnlessSaid() throws IOException, URISyntaxException {
        same("gpt2", "ignore-merges");
    }

    /**
     * GPT-NeoX's (Pythia's) tokenizer.json: an NFC normalizer, and runs of spaces as added tokens that are not special and
     * are normalized: they are cut out of every text (with or without special tokens allowed) after the normalizer, before
     * the pre-tokenizer; a normalized added token matches its NFD spelling; NFKC in a Sequence after NFD.
     */
    @Test
    void normalizerAndAddedTokensThatAreNotSpecial(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException, URISyntaxException {
        same("neox");
        for (String name : new String[] {"neox", "neox-nfkc-sequence"}) { // written back with the flags and the normalizer, read as the same tokenizer
            BpeTokenizer t = TokenizerJson.read(Path.of(HfParityTest.class.getResource("/tokenizer/hf/" + name + ".json").toURI()));
            TokenizerJson.write(t, dir.resolve(name + ".json"));
            assertEquals(null, t.differenceFrom(TokenizerJson.read(dir.resolve(name + ".json"))), name);
        }
    }

    /** Every case of cases.json, and that the file is tokenizers' output. */
    @Test
    void allCases() throws IOException, URISyntaxException {
        JsonNode root = new ObjectMapper().readTree(HfParityTest.class.getResource("/tokenizer/hf/cases.json"));
        assertEquals(432, root.get("cases").size());
        assertTrue(root.get("tokenizers").asText().startsWith("0."), root.get("tokenizers").asText());
        same("");
    }
}
