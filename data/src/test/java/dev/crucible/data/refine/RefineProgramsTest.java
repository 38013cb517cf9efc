package dev.crucible.data.refine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RefineProgramsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path tmp;

    private static final String ARTICLE = String.join("\n",
            "Home", "News", "Sport", "Weather",
            "The river floods every spring when the snow melts in the mountains above the valley.",
            "Farmers in the valley have learned to plant late, after the water has gone down again.",
            "Click here to subscribe to our newsletter!!!!!!",
            "Contact the editor at editor@valley-news.example or see https://valley-news.example/about for more.",
            "The river floods every spring when the snow melts in the mountains above the valley.",
            "#### ---- 2024 ---- ####");

    @Test
    void rulesWriteProgramsThatTheExecutorRuns() {
        RefiningProgram p = RulePrograms.DEFAULT.write(ARTICLE);
        assertEquals("""
                remove_lines(line_start=0, line_end=3)
                remove_lines(line_start=6, line_end=6)
                remove_lines(line_start=8, line_end=9)
                normalize(source_str="https://valley-news.example/about", target_str="")
                normalize(source_str="editor@valley-news.example", target_str="")""", p.render());
        var r = ProgramExecutor.PROX.execute(ARTICLE, p);
        assertEquals("""
                The river floods every spring when the snow melts in the mountains above the valley.
                Farmers in the valley have learned to plant late, after the water has gone down again.
                Contact the editor at  or see  for more.""", r.text());
        assertEquals("keep_doc()", RulePrograms.DEFAULT.write("A plain sentence that needs nothing done.").render());
        // closing braces repeat in code without being boilerplate
        assertEquals("keep_doc()", RulePrograms.DEFAULT.write("class A {\n  void compute() {\n    return;\n  }\n}\n").render());
        // a boilerplate phrase in a long line of prose (a Europarl speech) is not boilerplate
        assertEquals("keep_doc()", RulePrograms.DEFAULT.write("In the case of other dossiers concerning the financial interests of the Union, "
                + "we subscribe to the view that the fight against VAT fraud must continue, and the taxpayers who sent us here expect it.").render());
    }

    @Test
    void recipesRunProgramsFromRulesFieldsAndSideFilesAndKeepThemForAudit() throws IOException {
        String words = "one two three four five six seven eight nine ten eleven twelve";
        Path in = tmp.resolve("in.jsonl");
        List<String> lines = new ArrayList<>();
        lines.add(JSON.writeValueAsString(java.util.Map.of("id", "a", "text", ARTICLE, "program", "remove_lines(line_start=0, line_end=3)")));
        lines.add(JSON.writeValueAsString(java.util.Map.of("id", "b", "text", "junk\n" + words, "program", "remove_lines(line_start=0, line_end=0)\nnot a program\nnor this")));
        lines.add(JSON.writeValueAsString(java.util.Map.of("id", "c", "text", "menu\n" + words, "program", "remove_lines(line_start=0, line_end=1)")));
        lines.add(JSON.writeValueAsString(java.util.Map.of("id", "d", "text", words)));
        Files.write(in, lines);
        Path programs = tmp.resolve("programs.jsonl");
        Files.writeString(programs, "{\"id\": \"a\", \"program\": \"drop_doc()\"}\n{\"id\": \"b\", \"program\": \"keep_doc()\"}\n");

        JsonNode field = run("field", "{from: field, field: program}", in);
        JsonNode steps = field.get("summary").get("steps").get(0);
        assertEquals("{\"dropped_little_left\":1,\"no_program\":1,\"program_ignored\":1,\"refined\":1}", steps.get("rules").toString());
        List<JsonNode> out = docs(field);
        assertEquals(List.of("a", "b", "d"), out.stream().map(d -> d.get("id").asText()).toList());
        assertTrue(out.get(0).get("text").asText().startsWith("The river floods"));
        assertEquals("remove_lines(line_start=0, line_end=3)", out.get(0).get("refine_program").asText());
        assertEquals("junk\n" + words, out.get(1).get("text").asText(), "two errors: the original text");
        assertEquals("2", out.get(1).get("refine_errors").asText());
        assertTrue(out.get(1).get("refine_program").asText().contains("# errors:\nnot a program  <- "), out.get(1).toString());
        String trace = field.get("trace").asText();
        assertTrue(trace.contains("remove_lines(line_start=0, line_end=3)") && trace.contains("\"rule\":\"dropped_little_left\""), trace);

        JsonNode file = run("file", "{from: file, file: " + programs + ", level: doc}", in);
        assertEquals(List.of("b", "c", "d"), docs(file).stream().map(d -> d.get("id").asText()).toList());
        assertEquals("{\"dropped_by_program\":1,\"kept_by_program\":1,\"no_program\":2}", file.get("summary").get("steps").get(0).get("rules").toString());

        JsonNode rules = run("rules", "{}", in);
        assertEquals(ProgramExecutor.PROX.execute(ARTICLE, RulePrograms.DEFAULT.write(ARTICLE)).text(), docs(rules).getFirst().get("text").asText());
    }

    @Test
    void badParametersAndSideFilesAreNamed() throws IOException {
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, "{\"text\": \"x\"}\n");
        Path programs = tmp.resolve("bad.jsonl");
        Files.writeString(programs, "{\"id\": \"a\", \"program\": \"keep_doc()\"}\n{\"id\": \"b\"}\n");
        Path recipe = tmp.resolve("r.yaml");
        for (var c : List.of(List.of("{from: file, file: " + programs + "}", programs + ":2: each line needs \"id\" and a string \"program\""),
                List.of("{from: model}", "parameter 'from' must be rules, field, file or endpoint"), List.of("{threshold_2: 2}", "must be in [0, 1]"),
                List.of("{from: file, file: " + tmp.resolve("none.jsonl") + "}", "none.jsonl: no such file"), List.of("{bogus: 1}", "unknown parameter 'bogus'"))) {
            Files.writeString(recipe, "inputs: [" + in + "]\noutput: {dir: " + tmp.resolve("o") + "}\nops:\n  - refine_programs: " + c.get(0) + "\n");
            var e = org.junit.jupiter.api.Assertions.assertThrows(Recipe.RecipeException.class, () -> Recipe.load(recipe));
            assertTrue(e.getMessage().startsWith(recipe + ":4: refine_programs: ") && e.getMessage().contains(c.get(1)), e.getMessage());
        }
    }

    private JsonNode run(String name, String params, Path in) throws IOException {
        Path recipe = tmp.resolve(name + ".yaml"), out = tmp.resolve(name);
        Files.writeString(recipe, "inputs: [" + in + "]\noutput: {dir: " + out + ", compression: none}\nops:\n  - refine_programs: " + params + "\n");
        RecipeRun.run(Recipe.load(recipe), null);
        var node = JSON.createObjectNode();
        node.set("summary", JSON.readTree(out.resolve(RecipeRun.SUMMARY).toFile()));
        node.put("trace", Files.readString(out.resolve(RecipeRun.TRACE)));
        node.put("out", out.toString());
        return node;
    }

    private static List<JsonNode> docs(JsonNode run) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(Path.of(run.get("out").asText()).resolve("part-00000.jsonl"))) out.add(JSON.readTree(l));
        return out;
    }
}
