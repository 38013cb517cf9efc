package dev.crucible.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HellaSwag and ARC file formats, turned into prompts and choices exactly as lm-evaluation-harness does. */
class MultipleChoiceLoadersTest {
    @TempDir
    Path dir;

    @Test
    void hellaswagPreprocessingMatchesTheHarness() throws IOException {
        Path f = dir.resolve("hellaswag/validation.jsonl");
        Files.createDirectories(f.getParent());
        // the shape of a Rowan/hellaswag validation row (WikiHow rows carry [title] and [step] tags)
        Files.writeString(f, """
                {"ind": 24, "activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.", "ctx_b": "he", "endings": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "is holding a rubik's cube.", "starts pulling up roofing on a roof."], "source_id": "activitynet~v_-JhWjGDPHMY", "split": "val", "split_type": "indomain", "label": "3"}
                {"activity_label": "Home and Garden", "ctx_a": "[header] How to paint a wall [title] Clean the wall.", "ctx_b": "Use A SPONGE", "endings": ["[step] Rinse  well.", "Let it dry."], "label": "0"}
                """);
        List<MultipleChoice.Question> q = MultipleChoice.hellaswag(f).questions();
        assertEquals("Roof shingle removal: A man is sitting on a roof. He", q.get(0).prompt());
        assertEquals("starts pulling up roofing on a roof.", q.get(0).choices().get(3));
        assertEquals(3, q.get(0).gold());
        // [header] dropped, " [title]" -> ". ", capitalize lower-cases the rest, double spaces collapsed
        assertEquals("Home and Garden: How to paint a wall. Clean the wall. Use a sponge", q.get(1).prompt());
        assertEquals(List.of(" Rinse well.", "Let it dry."), q.get(1).choices()); // the harness strips before removing tags: the space stays
        assertEquals(0.25 * 0.5 + 0.5 * 0.5, MultipleChoice.hellaswag(f).chance("acc"), 1e-12);
        Files.writeString(f, "{\"activity_label\": \"x\", \"ctx_a\": \"a\", \"ctx_b\": \"b\", \"endings\": [\"e\"], \"label\": \"4\"}\n");
        assertTrue(assertThrows(IOException.class, () -> MultipleChoice.hellaswag(f)).getMessage().endsWith("validation.jsonl:1: label 4 is not an index of the 1 endings"));
    }

    @Test
    void arcReadsBothLayouts() throws IOException {
        Path f = dir.resolve("arc.jsonl");
        Files.writeString(f, """
                {"id": "Mercury_7175875", "question": "An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?", "choices": {"text": ["Planetary density will decrease.", "Planetary years will become longer.", "Planetary days will become shorter.", "Planetary gravity will become stronger."], "label": ["A", "B", "C", "D"]}, "answerKey": "C"}
                {"id": "x", "question": {"stem": "Which is a gas?", "choices": [{"text": "ice", "label": "1"}, {"text": "steam", "label": "2"}]}, "answerKey": "2"}
                """);
        MultipleChoice arc = MultipleChoice.arc("arc_easy", f);
        List<MultipleChoice.Question> q = arc.questions();
        assertTrue(q.get(0).prompt().startsWith("Question: An astronomer") && q.get(0).prompt().endsWith("rotation?\nAnswer:"));
        assertEquals(2, q.get(0).gold());
        assertEquals(List.of("ice", "steam"), q.get(1).choices());
        assertEquals(1, q.get(1).gold());
        assertEquals("arc_easy", arc.name());
        Files.writeString(f, "{\"question\": \"q\", \"choices\": {\"text\": [\"a\"], \"label\": [\"A\"]}, \"answerKey\": \"E\"}\n");
        assertTrue(assertThrows(IOException.class, () -> MultipleChoice.arc("arc_easy", f)).getMessage().contains(":1: answerKey 'E' is not one of the labels [A]"));
    }
}
