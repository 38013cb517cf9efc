package dev.crucible.data.classify;

import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.TokenizerJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How a document becomes the one line a fastText classifier reads. {@code plain}: newlines become
 * spaces (DCLM's classifier input). {@code ultrafineweb}: Ultra-FineWeb's preprocessing
 * (scripts/local_scripts/infer_single_content_demo.py of openbmb/Ultra-FineWeb-classifier): runs of
 * three or more newlines become two, lower case, NFKD with combining marks removed, the text
 * tokenised with an LLM's BPE tokenizer and the decoded tokens joined with single spaces, newline,
 * carriage return and tab written as the two characters \n, \r, \t, spaces collapsed and stripped.
 * The same preprocessing must be used for training and scoring; the classifier's file does not say
 * which one it was trained with, so the operator and the train command take it as an option.
 */
public sealed interface ClassifierText permits ClassifierText.Plain, ClassifierText.UltraFineWeb {
    String line(String document);

    String name();

    static ClassifierText of(String name, String tokenizer) throws IOException {
        return switch (name) {
            case "plain" -> {
                if (tokenizer != null) throw new IllegalArgumentException("a tokenizer is only used by the ultrafineweb preprocessing");
                yield new Plain();
            }
            case "ultrafineweb" -> {
                if (tokenizer == null) throw new IllegalArgumentException("the ultrafineweb preprocessing needs a tokenizer (tokenizer.json of the LLM whose tokens the classifier was trained on)");
                yield new UltraFineWeb(TokenizerJson.read(Path.of(tokenizer)), tokenizer);
            }
            default -> throw new IllegalArgumentException("preprocessing must be plain or ultrafineweb, got '" + name + "'");
        };
    }

    record Plain() implements ClassifierText {
        @Override
        public String line(String document) {
            return document.replace('\n', ' ').replace('\r', ' ');
        }

        @Override
        public String name() {
            return "plain";
        }
    }

    record UltraFineWeb(BpeTokenizer tokenizer, String source) implements ClassifierText {
        private static final Pattern NEWLINES = Pattern.compile("\n{3,}"), MARKS = Pattern.compile("\\p{Mn}+"), SPACES = Pattern.compile(" +");

        @Override
        public String line(String document) {
            String t = NEWLINES.matcher(document).replaceAll("\n\n").toLowerCase(Locale.ROOT);
            t = MARKS.matcher(Normalizer.normalize(t, Normalizer.Form.NFKD)).replaceAll("");
            StringBuilder sb = new StringBuilder(t.length() * 2);
            for (int id : tokenizer.encode(t, false)) {
                if (!sb.isEmpty()) sb.append(' ');
                sb.append(new String(tokenizer.bytes(id), StandardCharsets.UTF_8));
            }
            String s = sb.toString().replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t");
            return SPACES.matcher(s).replaceAll(" ").strip();
        }

        @Override
        public String name() {
            return "ultrafineweb";
        }
    }
}
