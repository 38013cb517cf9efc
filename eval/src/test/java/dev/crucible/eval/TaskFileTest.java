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

class TaskFileTest {
    @TempDir
    Path dir;

    @Test
    void declaredTasksBecomeTheBuiltInKinds() throws IOException {
        Files.writeString(dir.resolve("arc.jsonl"), """
                {"question": "Which is a gas?", "choices": {"text": ["ice", "steam"], "label": ["A", "B"]}, "answerKey": "B"}
                """);
        Files.writeString(dir.resolve("pairs.jsonl"), "{\"good\": \"The cat sleeps.\", \"bad\": \"The cat sleep.\"}\n");
        Files.writeString(dir.resolve("docs.jsonl"), "{\"t\": {\"body\": \"one two three\"}}\n");
        Path yaml = dir.resolve("tasks.yaml");
        Files.writeString(yaml, """
                tasks:
                  - name: my_arc
                    kind: multiple_choice
                    data: arc.jsonl
                    prompt: "Question: {question}\\nAnswer:"
                    choices: "{choices.text}"
                    gold: "{answerKey}"
                    labels: "{choices.label}"
                    group: science
                  - {name: my_pairs, kind: minimal_pairs, data: pairs.jsonl, good: "{good}", bad: "{bad}"}
                  - {name: my_cloze, kind: cloze, data: docs.jsonl, text: "{t.body}"}
                  - {name: my_ppl, kind: perplexity, data: docs.jsonl, text: "{t.body}"}
                """);
        List<Task> tasks = Tasks.load(null, List.of(yaml.toString()));
        assertEquals(List.of("my_arc", "my_pairs", "my_cloze", "my_ppl"), tasks.stream().map(Task::name).toList());
        MultipleChoice arc = (MultipleChoice) tasks.getFirst();
        assertEquals(new MultipleChoice.Question("Question: Which is a gas?\nAnswer:", List.of("ice", "steam"), 1), arc.questions().getFirst());
        assertEquals("science", arc.group());
        assertEquals(0.5, arc.chance("acc"), 1e-12);
        assertEquals(0.5, tasks.get(1).chance("acc"), 1e-12);
    }

    static void assertMessage(Path yaml, String part) {
        String msg = assertThrows(IOException.class, () -> TaskFile.load(yaml)).getMessage();
        assertTrue(msg.contains(part), msg);
    }

    @Test
    void mistakesNameTheFileTaskAndLine() throws IOException {
        Files.writeString(dir.resolve("d.jsonl"), "{\"q\": \"x\", \"c\": [\"a\", \"b\"], \"g\": 5}\n");
        Path yaml = dir.resolve("t.yaml");
        Files.writeString(yaml, "tasks:\n  - {name: t, kind: multiple_choice, data: d.jsonl, prompt: \"{q}\", choices: \"{c}\", gold: \"{g}\"}\n");
        assertMessage(yaml, "d.jsonl:1: gold 5 is not one of the 2 choices");
        Files.writeString(yaml, "tasks:\n  - {name: t, kind: multiple_choice, data: d.jsonl, prompt: \"{question}\", choices: \"{c}\", gold: \"{g}\"}\n");
        assertMessage(yaml, "d.jsonl:1: no field 'question'");
        Files.writeString(yaml, "tasks:\n  - {name: t, kind: essay, data: d.jsonl}\n");
        assertMessage(yaml, "t.yaml: task 1 (t): unknown kind 'essay'");
        Files.writeString(yaml, "tasks:\n  - {name: t, kind: cloze, data: d.jsonl, txt: \"{q}\"}\n");
        assertMessage(yaml, "unknown key 'txt'");
    }
}
