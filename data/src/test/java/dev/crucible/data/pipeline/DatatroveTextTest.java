package dev.crucible.data.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** datatrove's text utilities; the word lists are NLTK's own regression tests (nltk/test/tokenize.doctest). */
class DatatroveTextTest {
    @Test
    void wordTokenizeAsNltkDoes() {
        assertEquals(List.of("On", "a", "$", "50,000", "mortgage", "of", "30", "years", "at", "8", "percent", ",", "the", "monthly", "payment",
                "would", "be", "$", "366.88", "."), DatatroveText.words("On a $50,000 mortgage of 30 years at 8 percent, the monthly payment would be $366.88."));
        assertEquals(List.of("``", "We", "beat", "some", "pretty", "good", "teams", "to", "get", "here", ",", "''", "Slocum", "said", "."),
                DatatroveText.words("\"We beat some pretty good teams to get here,\" Slocum said."));
        assertEquals(List.of("Well", ",", "we", "could", "n't", "have", "this", "predictable", ",", "cliche-ridden", ",", "``", "Touched", "by", "an",
                "Angel", "''", "(", "a", "show", "creator", "John", "Masius", "worked", "on", ")", "wanna-be", "if", "she", "did", "n't", "."),
                DatatroveText.words("Well, we couldn't have this predictable, cliche-ridden, \"Touched by an Angel\" (a show creator John Masius worked on) wanna-be if she didn't."));
        assertEquals(List.of("I", "can", "not", "can", "not", "work", "under", "these", "conditions", "!"), DatatroveText.words("I cannot cannot work under these conditions!"));
        assertEquals(List.of("The", "company", "spent", "40.75", "%", "of", "its", "income", "last", "year", "."),
                DatatroveText.words("The company spent 40.75% of its income last year."));
        assertEquals(List.of("He", "arrived", "at", "3:00", "pm", "."), DatatroveText.words("He arrived at 3:00 pm."));
        assertEquals(List.of("I", "bought", "these", "items", ":", "books", ",", "pencils", ",", "and", "pens", "."),
                DatatroveText.words("I bought these items: books, pencils, and pens."));
        assertEquals(List.of("There", "were", "300,000", ",", "but", "that", "was", "n't", "enough", "."), DatatroveText.words("There were 300,000, but that wasn't enough."));
        assertEquals(List.of("It", "'s", "more", "'n", "enough", "."), DatatroveText.words("It's more'n enough."));
        assertEquals(List.of("\u00AB", "Now", "that", "I", "can", "do", ".", "\u00BB"), DatatroveText.words("\u00ABNow that I can do.\u00BB"));
        // sentences: Punkt ends one at "York." and "them.", so their periods are split off as well as the last
        assertEquals(List.of("Good", "muffins", "cost", "$", "3.88", "in", "New", "York", ".", "Please", "buy", "me", "two", "of", "them", ".", "Thanks", "."),
                DatatroveText.words("Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\n\nThanks."));
        // one sentence (NLTKWordTokenizer alone): only the last period is split off
        assertEquals(List.of("Good", "muffins", "cost", "$", "3.88", "in", "New", "(", "York", ")", ".", "Please", "(", "buy", ")", "me", "two", "of", "them.",
                "(", "Thanks", ")", "."), DatatroveText.treebank("Good muffins cost $3.88\nin New (York).  Please (buy) me\ntwo of them.\n(Thanks)."));
        assertEquals(List.of("Mr.", "Smith", "met", "the", "U.S.", "team", "."), DatatroveText.words("Mr. Smith met the U.S. team."), "abbreviations keep their period");
    }

    /** Skipping the rules whose trigger is absent changes no token: against every rule run, on texts dense in the triggers. */
    @Test
    void skippingAbsentRulesIsTheSameAsRunningThemAll() {
        String alphabet = "ab sStnN'\"`.,:;?!*()[]{}<>-@#$%&0123\u00AB\u00BB\u201C\u201D\u2018\u2019\u201E\u017F\u212A";
        String[] words = {"cannot", "CanNot", "gimme", "gonna", "gotta", "lemme", "more'n", "wanna ", " 'tis", " 'Twas", "d'ye", "'re", "n't", "'ll",
            "'tiſ", "\"quoted\"", "''", "...", "--"};
        java.util.Random r = new java.util.Random(7);
        for (int k = 0; k < 4000; k++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + r.nextInt(40);
            for (int i = 0; i < n; i++) {
                if (r.nextInt(5) == 0) sb.append(words[r.nextInt(words.length)]);
                else sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            String t = sb.toString();
            assertEquals(DatatroveText.treebank(t, false), DatatroveText.treebank(t, true), t);
        }
        assertEquals(List.of("he", "can", "not", "0", "x"), DatatroveText.words(DatatroveText.simplify("He CANNOT 12, x!")), "MinHash's words: the contraction still split");
    }

    /** Sentence ends found by a scan against the SENTENCE_END regex, on texts dense in periods, closers, spaces, initials and abbreviations. */
    @Test
    void sentenceEndsByScanAreTheRegexs() {
        String alphabet = "ab A.. . . .\"')]}>\u00BB\u2019\u201D\t\n\u00A0\u2003\u3000\u001C,;!?$#\u00A7\u2022x";
        String[] words = {"Mr.", "U.S.", "etc.", "(Dr.", "\"e.g.", "A.", "end.", "it.)", "no.", " St. ", "Jan.", "\uD835\uDC00."};
        java.util.Random r = new java.util.Random(13);
        for (int k = 0; k < 20_000; k++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + r.nextInt(30);
            for (int i = 0; i < n; i++) sb.append(r.nextInt(4) == 0 ? words[r.nextInt(words.length)] : alphabet.charAt(r.nextInt(alphabet.length())));
            String t = sb.toString();
            assertEquals(DatatroveText.wordsReference(t), DatatroveText.words(t), t);
        }
    }

    /** simplify_text in one pass against its regex passes, on texts dense in digits, separators, punctuation, spaces and accents. */
    @Test
    void simplifyInOnePassIsItsRegexPasses() {
        String alphabet = "aB \t\n\u000B\u001C\u0085\u00A0\u2003\u3000.,;:!?'\"-\u2014\u060C\u066B\u23960129\u0661\u0662\u00E9\u0301\u00C5\u0130\u1E9E\uD835\uDFCE\u00BD\u00B2";
        java.util.Random r = new java.util.Random(11);
        for (int k = 0; k < 20_000; k++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(30);
            for (int i = 0; i < n; i++) sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
            String t = sb.toString();
            assertEquals(DatatroveText.simplifyReference(t), DatatroveText.simplify(t), t);
        }
    }

    @Test
    void punctuationTables() {
        assertEquals(159, DatatroveText.TERMINAL_PUNCTUATION.length);
        assertTrue(DatatroveText.isTerminal('.') && DatatroveText.isTerminal('\u3002') && DatatroveText.isTerminal(0x11F43));
        assertFalse(DatatroveText.isTerminal('\u2026'), "datatrove's set has no ellipsis");
        assertFalse(DatatroveText.isTerminal('"'));
        assertTrue(DatatroveText.isPunctuation('\u2026') && DatatroveText.isPunctuation(0x85) && DatatroveText.isPunctuation(0));
        assertFalse(DatatroveText.isPunctuation('\t') || DatatroveText.isPunctuation('\n') || DatatroveText.isPunctuation('\u00A9'));
        assertTrue(DatatroveText.isPunctuationOrTerminal('\u0964'));
    }

    @Test
    void simplifyTextAsDatatroveDoes() {
        // simplify_text("Héllo, WORLD!  It costs 3,50 € — or 12.5%.") in Python
        assertEquals("hello world it costs 0 € or 0", DatatroveText.simplify("H\u00E9llo, WORLD!  It costs 3,50 \u20AC \u2014 or 12.5%."));
    }

    @Test
    void sentencesCoverTheTextAndEndWhereNltkWould() {
        assertEquals(java.util.List.of("Mr. Smith went home.", " He slept."), DatatroveText.sentences("Mr. Smith went home. He slept."));
        assertEquals(java.util.List.of("Is it?", " Yes!", "  Good."), DatatroveText.sentences("Is it? Yes!  Good."));
        // closers stay with their sentence; an ellipsis, an initial and U.S. end none; a final end needs nothing after it
        assertEquals(java.util.List.of("(He left.)", " Then \"wait...\" J. R. said the U.S. team won. "),
                DatatroveText.sentences("(He left.) Then \"wait...\" J. R. said the U.S. team won. "));
        assertEquals(java.util.List.of("He left. \"", " Then more."), DatatroveText.sentences("He left. \" Then more."));
        assertEquals(java.util.List.of(""), DatatroveText.sentences(""));
        assertEquals(java.util.List.of("  "), DatatroveText.sentences("  "));
        String text = "Aa bb. Cc dd? Ee ff! \"Gg hh.\" Ii";
        assertEquals(text, String.join("", DatatroveText.sentences(text)));
        assertEquals(5, DatatroveText.sentences(text).size());
    }
}
