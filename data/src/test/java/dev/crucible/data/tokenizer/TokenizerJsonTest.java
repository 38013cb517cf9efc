package dev.crucible.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed tokenizer.json files: refused with the file and the key, where tokenizers' deserializer
 * errors too (ids that are not u32, merges of tokens the vocab lacks) and where Crucible would
 * otherwise take a value tokenizers does not (ids it numbers otherwise, one id for two tokens);
 * an added token with empty content is skipped, as tokenizers skips it.
 */
class TokenizerJsonTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** The small byte-level BPE of the Hugging Face cases (gpt2.json), changed by edit. */
    private Path variant(Consumer<ObjectNode> edit) throws IOException, URISyntaxException {
        ObjectNode root = (ObjectNode) JSON.readTree(Path.of(TokenizerJsonTest.class.getResource("/tokenizer/hf/gpt2.json").toURI()).toFile());
        edit.accept(root);
        Path f = Files.createTempFile(dir, "tokenizer", ".json");
        JSON.writeValue(f.toFile(), root);
        return f;
    }

    private String refused(Consumer<ObjectNode> edit) throws IOException, URISyntaxException {
        Path f = variant(edit);
        IOException e = assertThrows(IOException.class, () -> TokenizerJson.read(f));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        return e.getMessage();
    }

    private static ObjectNode added(ObjectNode root, int i) {
        return (ObjectNode) root.get("added_tokens").get(i);
    }

    private static ObjectNode vocab(ObjectNode root) {
        return (ObjectNode) root.get("model").get("vocab");
    }

    @Test
    void emptyAddedTokenIsSkippedAsTokenizersSkipsIt() throws IOException, URISyntaxException {
        BpeTokenizer plain = TokenizerJson.read(variant(r -> {}));
        BpeTokenizer withEmpty = TokenizerJson.read(variant(r -> ((ArrayNode) r.get("added_tokens")).insert(0, added(r, 0).deepCopy().put("content", ""))));
        int[] ids = plain.encode("hi<|endoftext|>hi", true);
        assertArrayEquals(new int[] {256, 262, 256}, ids, "tokenizers' ids for this text");
        assertArrayEquals(ids, withEmpty.encode("hi<|endoftext|>hi", true));
        assertEquals(plain.specials(), withEmpty.specials());
    }

    @Test
    void addedTokenIdsThatAreNotTokenizersAreRefusedByIndex() throws IOException, URISyntaxException {
        assertTrue(refused(r -> added(r, 0).put("id", -1)).contains("added_tokens[0].id -1 ('<|endoftext|>') is not an integer in [0, 263)"));
        assertTrue(refused(r -> added(r, 0).remove("id")).contains("added_tokens[0].id null"));
        assertTrue(refused(r -> added(r, 0).put("id", "262")).contains("added_tokens[0].id \"262\""));
        assertTrue(refused(r -> added(r, 0).put("id", 262.5)).contains("added_tokens[0].id 262.5"));
        assertTrue(refused(r -> added(r, 0).put("id", 4294967296L)).contains("added_tokens[0].id 4294967296"));
        // tokenizers ignores a stated id and numbers the token on from the vocabulary's size (262): it would not be 100
        String msg = refused(r -> added(r, 0).put("id", 100));
        assertTrue(msg.contains("added_tokens[0].id 100 ('<|endoftext|>') is not the id Hugging Face tokenizers gives it, 262"), msg);
        // an added token the vocab has takes the vocab's id
        msg = refused(r -> ((ArrayNode) r.get("added_tokens")).add(added(r, 0).deepCopy().put("content", "hi").put("id", 263)));
        assertTrue(msg.contains("added_tokens[1].id 263 ('hi') is not the id Hugging Face tokenizers gives it, 256"), msg);
        assertTrue(refused(r -> added(r, 0).put("lstrip", true)).contains("added_tokens[0].lstrip true ('<|endoftext|>') is not supported"));
    }

    @Test
    void vocabAndMergesTokenizersWouldNotBuildAreRefusedByKey() throws IOException, URISyntaxException {
        String msg = refused(r -> vocab(r).put("hi", 257));
        assertTrue(msg.contains("model.vocab gives id 257 to both"), msg);
        assertTrue(refused(r -> vocab(r).put("hi", -3)).contains("model.vocab['hi'] has id -3"));
        assertTrue(refused(r -> vocab(r).put("hi", 1e9)).contains("model.vocab['hi'] has id 1.0E9"));
        msg = refused(r -> ((ArrayNode) r.get("model").get("merges")).addArray().add("q").add("zz"));
        assertTrue(msg.contains("model.merges[6] [q, zz]: 'zz' is not in model.vocab"), msg);
        msg = refused(r -> ((ArrayNode) r.get("model").get("merges")).addArray().add("h").add("Ġh"));
        assertTrue(msg.contains("model.merges[6] [h, Ġh]: 'hĠh' is not in model.vocab"), msg);
        assertTrue(refused(r -> ((ObjectNode) r.get("model")).remove("merges")).contains("model.merges is missing"));
        assertTrue(refused(r -> ((ObjectNode) r.get("model")).put("ignore_merges", "yes")).contains("model.ignore_merges must be true or false"));
    }

    @Test
    void preTokenizersNotComputedAreRefusedByKey() throws IOException, URISyntaxException {
        String msg = refused(r -> {
            ArrayNode steps = r.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
            steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false);
            steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false).putObject("pattern").put("Regex", "\\d");
        });
        assertTrue(msg.contains("pre_tokenizer.pretokenizers[1]: Split after ByteLevel is not supported"), msg);
        msg = refused(r -> {
            ArrayNode steps = r.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
            steps.addObject().put("type", "Split").put("behavior", "Split").put("invert", false).putObject("pattern").put("Regex", "\\d");
            steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false);
        });
        assertTrue(msg.contains("pre_tokenizer.pretokenizers[0].behavior \"Split\" is not one of"), msg);
        msg = refused(r -> {
            ArrayNode steps = r.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
            steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false).putObject("pattern").put("Regex", "(");
            steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false);
        });
        assertTrue(msg.contains("pre_tokenizer.pretokenizers[0].pattern.Regex does not compile"), msg);
        assertTrue(refused(r -> ((ObjectNode) r.get("pre_tokenizer")).remove("add_prefix_space")).contains("pre_tokenizer.add_prefix_space must be true or false"));
        assertTrue(refused(r -> r.putObject("pre_tokenizer").put("type", "Digits")).contains("pre_tokenizer 'Digits' is not supported"));
    }

    /** Llama 3's post_processor shape: a Sequence of ByteLevel and a TemplateProcessing whose single template is "bos $A". */
    private static ObjectNode template(ObjectNode root, String bos, int bosId) {
        ArrayNode processors = root.putObject("post_processor").put("type", "Sequence").putArray("processors");
        processors.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        ObjectNode t = processors.addObject().put("type", "TemplateProcessing");
        ArrayNode single = t.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = t.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode entry = t.putObject("special_tokens").putObject(bos).put("id", bos);
        entry.putArray("ids").add(bosId);
        entry.putArray("tokens").add(bos);
        return t;
    }

    @Test
    void postProcessorsPutTheirSpecialTokensAroundAText() throws IOException, URISyntaxException {
        int[] hi = {256}; // "hi"
        BpeTokenizer plain = TokenizerJson.read(variant(r -> {}));
        assertTrue(plain.postProcessor().isEmpty(), "no post_processor: no special tokens");
        assertTrue(TokenizerJson.read(variant(r -> r.putObject("post_processor").put("type", "ByteLevel").put("trim_offsets", true))).postProcessor().isEmpty());

        BpeTokenizer llama = TokenizerJson.read(variant(r -> template(r, "<|endoftext|>", 262)));
        assertArrayEquals(new int[] {262, 256}, llama.postProcessor().around(llama.encode("hi", true)), "tokenizers' ids with add_special_tokens");
        assertArrayEquals(hi, llama.encode("hi", true), "encode alone adds none");
        // a name may stand for several tokens, and tokens after the sequence are a suffix
        BpeTokenizer wrapped = TokenizerJson.read(variant(r -> {
            ObjectNode t = template(r, "<|endoftext|>", 262);
            ((ArrayNode) t.get("single")).addObject().putObject("SpecialToken").put("id", "end").put("type_id", 0);
            ObjectNode end = ((ObjectNode) t.get("special_tokens")).putObject("end").put("id", "end");
            end.putArray("ids").add(104).add(262);
            end.putArray("tokens").add("h").add("<|endoftext|>");
        }));
        assertArrayEquals(new int[] {262, 256, 104, 262}, wrapped.postProcessor().around(hi));
        // BERT's and RoBERTa's processors: cls before, sep after
        for (String type : new String[] {"BertProcessing", "RobertaProcessing"}) {
            BpeTokenizer bert = TokenizerJson.read(variant(r -> {
                ObjectNode pp = r.putObject("post_processor").put("type", type);
                pp.putArray("cls").add("<|endoftext|>").add(262);
                pp.putArray("sep").add("h").add(104);
            }));
            assertArrayEquals(new int[] {262, 256, 104}, bert.postProcessor().around(hi), type);
        }
        // two templates in a Sequence: the later one's tokens outermost, as tokenizers runs them
        BpeTokenizer nested = TokenizerJson.read(variant(r -> {
            template(r, "<|endoftext|>", 262);
            ArrayNode processors = (ArrayNode) r.get("post_processor").get("processors");
            ObjectNode second = processors.get(1).deepCopy();
            ((ArrayNode) second.get("special_tokens").get("<|endoftext|>").get("ids")).removeAll();
            ((ArrayNode) second.get("special_tokens").get("<|endoftext|>").get("ids")).add(104);
            processors.add(second);
        }));
        assertArrayEquals(new int[] {104, 262, 256}, nested.postProcessor().around(hi));
        // and with tokens after the text: BERT's processor first, then a template with its own suffix, outermost
        BpeTokenizer both = TokenizerJson.read(variant(r -> {
            ArrayNode processors = r.putObject("post_processor").put("type", "Sequence").putArray("processors");
            ObjectNode bert = processors.addObject().put("type", "BertProcessing");
            bert.putArray("cls").add("<|endoftext|>").add(262);
            bert.putArray("sep").add("h").add(104);
            ObjectNode t = processors.addObject().put("type", "TemplateProcessing");
            ArrayNode single = t.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", "i").put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            single.addObject().putObject("SpecialToken").put("id", "q").put("type_id", 0);
            ObjectNode specials = t.putObject("special_tokens");
            for (String[] tok : new String[][] {{"i", "105"}, {"q", "113"}}) {
                ObjectNode e = specials.putObject(tok[0]).put("id", tok[0]);
                e.putArray("ids").add(Integer.parseInt(tok[1]));
                e.putArray("tokens").add(tok[0]);
            }
        }));
        assertArrayEquals(new int[] {105, 262, 256, 104, 113}, both.postProcessor().around(hi));
    }

    @Test
    void aPostProcessorIsWrittenBackAsItWasRead() throws IOException, URISyntaxException {
        Path in = variant(r -> template(r, "<|endoftext|>", 262));
        BpeTokenizer llama = TokenizerJson.read(in);
        Path out = dir.resolve("written.json");
        TokenizerJson.write(llama, out);
        assertEquals(JSON.readTree(in.toFile()).get("post_processor"), JSON.readTree(out.toFile()).get("post_processor"));
        assertEquals(llama.postProcessor(), TokenizerJson.read(out).postProcessor());
        // the ids a text encodes to (what shards and a distillation teacher are compared by) are the same without it
        assertEquals(null, TokenizerJson.read(variant(r -> {})).differenceFrom(llama));
    }

    @Test
    void postProcessorsNotComputedAreRefusedByKey() throws IOException, URISyntaxException {
        String msg = refused(r -> r.putObject("post_processor").put("type", "Roberta"));
        assertTrue(msg.contains("post_processor.type 'Roberta' is not supported"), msg);
        msg = refused(r -> ((ArrayNode) template(r, "<|endoftext|>", 262).get("single")).addObject().putObject("Sequence").put("id", "B").put("type_id", 1));
        assertTrue(msg.contains("post_processor.processors[1].single[2] is sequence 'B': a single text's template has sequence A only"), msg);
        msg = refused(r -> template(r, "<s>", 262).remove("special_tokens"));
        assertTrue(msg.contains("post_processor.processors[1].single[0]: special token \"<s>\" is not in post_processor.processors[1].special_tokens"), msg);
        msg = refused(r -> template(r, "<|endoftext|>", 300));
        assertTrue(msg.contains("post_processor.processors[1].special_tokens['<|endoftext|>'].ids[0] 300 is not a token id of this tokenizer (263 tokens)"), msg);
        msg = refused(r -> ((ArrayNode) template(r, "<|endoftext|>", 262).get("special_tokens").get("<|endoftext|>").get("tokens")).add("x"));
        assertTrue(msg.contains("special_tokens['<|endoftext|>'] must have ids and tokens of the same length"), msg);
        msg = refused(r -> ((ArrayNode) template(r, "<|endoftext|>", 262).get("single")).remove(1));
        assertTrue(msg.contains("post_processor.processors[1].single has no sequence A"), msg);
        msg = refused(r -> ((ArrayNode) template(r, "<|endoftext|>", 262).get("single")).add("$A"));
        assertTrue(msg.contains("post_processor.processors[1].single[2] \"$A\" is neither"), msg);
        msg = refused(r -> r.putObject("post_processor").put("type", "BertProcessing").putArray("cls").add(262));
        assertTrue(msg.contains("post_processor.cls must be [token, id]"), msg);
    }
}
