package dev.crucible.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.crucible.data.Documents;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The hand-written GPT-2 pre-tokenizer cuts text exactly where the regex does. */
class Gpt2SplitterTest {
    static final BpeTokenizer TOK = gpt2Like();

    static BpeTokenizer gpt2Like() {
        BpeTrainer t = new BpeTrainer(BpeTokenizer.GPT2_PATTERN);
        t.add("hello world");
        return t.train(260, List.of("<|endoftext|>"));
    }

    static void same(String text) {
        List<String> regex = TOK.pieces(text, true), fast = TOK.pieces(text, false);
        if (!regex.equals(fast)) {
            int i = 0;
            while (i < Math.min(regex.size(), fast.size()) && regex.get(i).equals(fast.get(i))) i++;
            assertEquals(regex.subList(i, Math.min(regex.size(), i + 3)), fast.subList(i, Math.min(fast.size(), i + 3)),
                    "first difference at piece " + i + " of " + escape(text.length() > 200 ? text.substring(0, 200) : text));
        }
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(c -> sb.append(c < 0x20 || c > 0x7E ? String.format("\\u{%x}", c) : String.valueOf((char) c)));
        return sb.toString();
    }

    @Test
    void handPickedEdges() {
        for (String s : List.of("", " ", "  ", "a", " a", "  a", "a  ", "a \n b", "it's", "it''s", "'s", "x'll'", "I'M", "hello!!  world\t\t x",
                "1,000.5", " 123abc", "\u00A0a", " \u00A0a", "\u3000x", "a\u0085b", "\uD835\uDD38 b", "\uD800 x", "x \uDC00", "😀 😀😀", "½ Ⅻ ٣",
                "tab\t", "\r\n\r\n", "end ", "a'", "'", " '", " 're")) {
            same(s);
        }
    }

    @Test
    void randomUnicode() {
        String[] alphabet = {" ", " ", "\t", "\n", "\u00A0", "\u2003", "\u3000", "\u0085", "\u200B", "a", "Z", "é", "文", "\uD835\uDD38", "1", "٣",
                "Ⅻ", "½", "!", "'", "s", "t", "r", "e", "v", "l", "m", "d", "😀", "\uD800", "\uDC00", "_", "-", "."};
        SplittableRandom rng = new SplittableRandom(1);
        for (int k = 0; k < 20_000; k++) {
            StringBuilder sb = new StringBuilder();
            int len = rng.nextInt(1, 24);
            for (int i = 0; i < len; i++) sb.append(alphabet[rng.nextInt(alphabet.length)]);
            same(sb.toString());
        }
    }

    @Test
    void realText() throws IOException {
        List<String> docs = new ArrayList<>();
        Documents.read(Path.of("builtin:europarl"), (name, text) -> docs.add(text));
        Documents.read(Path.of("builtin:jdk-src:java.base"), (name, text) -> {
            if (docs.size() < 17_597 + 1500) docs.add(text);
        });
        for (String d : docs) same(d);
    }
}
