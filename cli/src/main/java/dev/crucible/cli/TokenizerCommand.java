package dev.crucible.cli;

import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.TokenizerConfig;
import dev.crucible.data.tokenizer.TokenizerJson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "BPE tokenizers in Hugging Face tokenizer.json format: byte-level (GPT-2's, Llama 3's, those trained here) or on "
                + "characters with byte fallback (SentencePiece's: Llama 2's, Mistral's, Gemma's).",
        subcommands = {TokenizerCommand.Train.class, TokenizerCommand.Encode.class, TokenizerCommand.Decode.class})
public final class TokenizerCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Train a byte-level BPE tokenizer on documents and write it as a Hugging Face tokenizer.json.",
                    "Inputs: .txt (one document per file), .jsonl / .jsonl.gz (the \"text\" field of each line), .zip (each entry), directories."})
    static final class Train implements Callable<Integer> {
        @Option(names = "--input", required = true, arity = "1..*", description = "Files or directories of documents.")
        java.util.List<Path> inputs;
        @Option(names = "--vocab-size", required = true, description = "Tokens in the vocabulary, special tokens included.")
        int vocabSize;
        @Option(names = "--out", required = true, description = "The tokenizer.json to write.")
        Path out;
        @Option(names = "--pattern", defaultValue = "gpt2", description = "Pre-tokenizer split: gpt2 or llama3 (default ${DEFAULT-VALUE}).")
        String pattern;
        @Option(names = "--special", defaultValue = "<|endoftext|>", split = ",", description = "Special tokens, comma-separated (default ${DEFAULT-VALUE}).")
        java.util.List<String> specials;
        @Option(names = "--max-mb", defaultValue = "200", description = "Train on at most this many MB of text (default ${DEFAULT-VALUE}).")
        long maxMb;

        @Override
        public Integer call() throws Exception {
            String re = switch (pattern) {
                case "gpt2" -> BpeTokenizer.GPT2_PATTERN;
                case "llama3" -> BpeTokenizer.LLAMA3_PATTERN;
                default -> throw new UserError("--pattern must be gpt2 or llama3, got '" + pattern + "'");
            };
            dev.crucible.data.tokenizer.BpeTrainer trainer = new dev.crucible.data.tokenizer.BpeTrainer(re);
            long[] bytes = {0};
            int[] docs = {0};
            long limit = maxMb << 20, t0 = System.nanoTime();
            for (Path in : inputs) {
                dev.crucible.data.Documents.read(in, (name, text) -> {
                    if (bytes[0] >= limit) return;
                    trainer.add(text);
                    bytes[0] += text.length();
                    docs[0]++;
                });
            }
            long t1 = System.nanoTime();
            BpeTokenizer tok = trainer.train(vocabSize, specials);
            TokenizerJson.write(tok, out);
            System.out.printf(java.util.Locale.ROOT, "%d documents, %,d characters, %,d distinct pieces counted in %.1f s; %d merges in %.1f s; wrote %s (%d tokens)%n",
                    docs[0], bytes[0], trainer.distinctPieces(), (t1 - t0) / 1e9, tok.vocabSize() - 256 - specials.size(), (System.nanoTime() - t1) / 1e9, out,
                    tok.vocabSize());
            return 0;
        }
    }

    @Command(name = "encode", mixinStandardHelpOptions = true, description = "Print the token ids of a text (or of a file's bytes) as a line of numbers.")
    static final class Encode implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, description = "tokenizer.json")
        Path tokenizer;
        @Option(names = "--file", description = "Encode this file's bytes (any bytes; each byte of invalid UTF-8 becomes its byte token, or for a "
                + "SentencePiece-style tokenizer without one the unknown token).")
        Path file;
        @Parameters(arity = "0..1", paramLabel = "TEXT", description = "Text to encode (special tokens such as <|endoftext|> are recognised).")
        String text;
        @Option(names = "--no-special-tokens", description = "Leave out the special tokens Hugging Face puts around a TEXT (those of tokenizer.json's "
                + "post_processor, or of a tokenizer_config.json beside it for a Llama-class tokenizer: a begin-of-sequence token), as "
                + "add_special_tokens=False does; by default they are there, as in tokenizer(text). A --file's bytes get none.")
        boolean noSpecialTokens;

        @Override
        public Integer call() throws Exception {
            BpeTokenizer t = TokenizerJson.read(tokenizer);
            if ((text == null) == (file == null)) throw new UserError("give either TEXT or --file");
            int[] ids = file != null ? t.encodeBytes(Files.readAllBytes(file)) : t.encode(text, true);
            if (file == null && !noSpecialTokens) ids = TokenizerConfig.read(tokenizer.toAbsolutePath().getParent()).postProcessor(t).around(ids);
            System.out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            System.err.println(ids.length + " tokens");
            return 0;
        }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true, description = "Print the text token ids decode to: for byte-level BPE the raw bytes they stand for, for SentencePiece-style BPE "
            + "the text Hugging Face's decode gives.")
    static final class Decode implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, description = "tokenizer.json")
        Path tokenizer;
        @Parameters(arity = "1..*", paramLabel = "ID", description = "Token ids (or one argument with ids separated by spaces).")
        String[] ids;

        @Override
        public Integer call() throws Exception {
            BpeTokenizer t = TokenizerJson.read(tokenizer);
            int[] parsed = Arrays.stream(String.join(" ", ids).trim().split("[\\s,]+")).mapToInt(s -> {
                try {
                    return Integer.parseInt(s);
                } catch (NumberFormatException e) {
                    throw new UserError("'" + s + "' is not a token id");
                }
            }).toArray();
            System.out.write(t.decodeBytes(parsed));
            System.out.println();
            return 0;
        }
    }
}
