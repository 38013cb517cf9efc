package dev.crucible.cli;

import dev.crucible.data.tokenizer.BpeTokenizer;
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

@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "Byte-level BPE tokenizers in Hugging Face tokenizer.json format.",
        subcommands = {TokenizerCommand.Encode.class, TokenizerCommand.Decode.class})
public final class TokenizerCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "encode", mixinStandardHelpOptions = true, description = "Print the token ids of a text (or of a file's bytes) as a line of numbers.")
    static final class Encode implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, description = "tokenizer.json")
        Path tokenizer;
        @Option(names = "--file", description = "Encode this file's bytes (any bytes; invalid UTF-8 becomes byte tokens).")
        Path file;
        @Parameters(arity = "0..1", paramLabel = "TEXT", description = "Text to encode (special tokens such as <|endoftext|> are recognised).")
        String text;

        @Override
        public Integer call() throws Exception {
            BpeTokenizer t = TokenizerJson.read(tokenizer);
            if ((text == null) == (file == null)) throw new UserError("give either TEXT or --file");
            int[] ids = file != null ? t.encodeBytes(Files.readAllBytes(file)) : t.encode(text, true);
            System.out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            System.err.println(ids.length + " tokens");
            return 0;
        }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true, description = "Print the text that token ids stand for (raw bytes).")
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
