package dev.crucible.data.refine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProgramExecutorTest {
    private static final String PROGRAM = "remove_lines(line_start=0, line_end=0)\nnormalize(source_str=\"Click here\", target_str=\"\")";

    @Test
    void theSpecExampleGivesTheExactText() {
        String doc = "Home | About | Contact\n"
                + "The river floods every spring when the snow melts in the mountains.\n"
                + "Click here to read the full story about the village.\n"
                + "Farmers plant late.";
        var r = ProgramExecutor.PROX.execute(doc, RefiningProgram.parse(PROGRAM));
        assertEquals(ProgramExecutor.Verdict.REFINED, r.verdict());
        assertEquals("The river floods every spring when the snow melts in the mountains.\n"
                + " to read the full story about the village.\n"
                + "Farmers plant late.", r.text());
        assertEquals(1, r.linesRemoved());
        assertEquals(0, r.errors());
    }

    @Test
    void tenWordsOrFewerLeftDropsTheDocument() {
        var r = ProgramExecutor.PROX.execute("Menu\nShort text of exactly seven words here.\nClick here", RefiningProgram.parse(PROGRAM));
        assertTrue(r.dropped());
        assertEquals(ProgramExecutor.Verdict.DROPPED_TOO_SHORT, r.verdict());
    }

    @Test
    void twoMalformedOperationsReturnTheOriginalText() {
        String doc = "line zero goes away\none two three four five six seven eight nine ten eleven twelve";
        String program = "remove_lines(line_start=0, line_end=0)\nremove_lines(line_start=zero, line_end=1)\nnormalize(source_str=\"x\" target_str=\"\")";
        RefiningProgram p = RefiningProgram.parse(program);
        assertEquals(2, p.errors().size());
        var r = ProgramExecutor.PROX.execute(doc, p);
        assertEquals(ProgramExecutor.Verdict.IGNORED, r.verdict());
        assertEquals(doc, r.text());
        // one error is tolerated
        var one = ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("remove_lines(line_start=0, line_end=0)\nbogus"));
        assertEquals("one two three four five six seven eight nine ten eleven twelve", one.text());
    }

    @Test
    void linesBeyondTheDocumentAreErrorsAndTheEndIsCut() {
        String doc = twelveWords("a") + "\n" + twelveWords("b") + "\n" + twelveWords("c");
        var r = ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("remove_lines(line_start=2, line_end=9)"));
        assertEquals(1, r.errors());
        assertEquals(twelveWords("a") + "\n" + twelveWords("b"), r.text());
        // overlapping ranges beyond the end merge into one error (as ProX merges intervals); two separate ones are two
        var merged = ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("remove_lines(line_start=5, line_end=7)\nremove_lines(line_start=6, line_end=9)"));
        assertEquals(1, merged.errors());
        assertEquals(doc, merged.text());
        var two = ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("remove_lines(line_start=5, line_end=5)\nremove_lines(line_start=8, line_end=9)"));
        assertEquals(2, two.errors());
        assertEquals(ProgramExecutor.Verdict.IGNORED, two.verdict());
    }

    @Test
    void littleLeftDropsAndRemoveAllEmpties() {
        String doc = twelveWords("a") + "\n" + String.join("\n", java.util.Collections.nCopies(30, twelveWords("b")));
        var r = ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("remove_lines(line_start=1, line_end=30)"));
        assertEquals(ProgramExecutor.Verdict.DROPPED_LITTLE_LEFT, r.verdict());
        assertTrue(ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("remove_lines(all=True)")).dropped());
    }

    @Test
    void normalizeRunsOnTheWholeDocumentBeforeLinesAreRemovedAndIgnoresASpace() {
        String doc = "x1 " + twelveWords("a") + "\nx1 " + twelveWords("b");
        var r = ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("normalize(source_str=\"x1 \")\nnormalize(source_str=\" \", target_str=\"_\")\nremove_lines(line_start=1, line_end=1)"));
        assertEquals(twelveWords("a"), r.text());
        // a replacement that adds a line shifts the numbering, uncorrected (as in ProX)
        var shifted = ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("normalize(source_str=\"x1 \", target_str=\"new\\n\")\nremove_lines(line_start=1, line_end=1)"));
        assertEquals("new\nnew\n" + twelveWords("b"), shifted.text());
    }

    @Test
    void hugeLineNumbersAreErrorsNotCrashesAndTheOneArgumentFormDeletesEvenASpace() {
        String doc = twelveWords("a") + "\n" + twelveWords("b");
        var r = ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("remove_lines(line_start=1, line_end=2147483647)"));
        assertEquals(1, r.errors());
        assertEquals(twelveWords("a"), r.text());
        assertEquals(ProgramExecutor.Verdict.IGNORED, ProgramExecutor.PROX.execute(doc,
                RefiningProgram.parse("remove_lines(line_start=2000000000, line_end=2147483647)\nremove_lines(line_start=5, line_end=6)")).verdict());
        // ProX's one-argument normalize has no guard against a space
        // (every space gone, two "words" are left and the document goes), where the two-argument form is skipped
        assertEquals(ProgramExecutor.Verdict.DROPPED_TOO_SHORT, ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("normalize(source_str=\" \")")).verdict());
        assertEquals(doc, ProgramExecutor.PROX.execute(doc, RefiningProgram.parse("normalize(source_str=\" \", target_str=\"\")")).text());
        assertEquals("normalize(source_str=\" \")", RefiningProgram.parse("normalize(source_str=' ')").render());
        // words as Python splits them: a no-break space separates words
        assertEquals(3, ProgramExecutor.words("a\u00a0b\u202fc"));
    }

    @Test
    void hostileStringsParse() {
        String program = "normalize(source_str=\"a, b=c) \\\"q\\\" \\\\ \\u00e9\\n\", target_str='it\\'s, (fine)')\n"
                + "  normalize( source_str = \"Ωmega 😀\" , )  \n\n"
                + "remove_lines(line_start=1, line_end=2,)";
        RefiningProgram p = RefiningProgram.parse(program);
        assertEquals(List.of(), p.errors());
        assertEquals(List.of(new RefiningProgram.Normalize("a, b=c) \"q\" \\ é\n", "it's, (fine)"), new RefiningProgram.Normalize("Ωmega 😀", "", true),
                new RefiningProgram.RemoveLines(1, 2)), p.ops());
        // rendering parses back to the same program
        assertEquals(p.ops(), RefiningProgram.parse(p.render()).ops());
        for (String bad : List.of("normalize(source_str=\"unterminated)", "remove_lines(line_start=3, line_end=1)", "remove_lines(line_start=-1, line_end=1)",
                "remove_lines(line_start=1)", "normalize(target_str=\"x\")", "keep_doc() trailing", "keep_doc(x=1)", "drop table", "remove_lines(all=False)",
                "normalize(source_str=\"a\", source_str=\"b\")", "normalize(source_str=\"\\x4\")")) {
            assertEquals(1, RefiningProgram.parse(bad).errors().size(), bad);
        }
    }

    @Test
    void documentLevelProgramsDropOnTheWordDrop() {
        assertTrue(ProgramExecutor.dropsDocument("drop_doc()"));
        assertFalse(ProgramExecutor.dropsDocument("keep_doc()"));
        assertNull(ProgramExecutor.PROX.execute("", RefiningProgram.parse("keep_doc()")).text());
    }

    private static String twelveWords(String w) {
        return String.join(" ", java.util.Collections.nCopies(12, w));
    }
}
