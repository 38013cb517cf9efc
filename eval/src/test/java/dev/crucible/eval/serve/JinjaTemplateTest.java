package dev.crucible.eval.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chat templates rendered as transformers renders them: real models' templates (ChatML, SmolLM2,
 * Llama 2 and 3, Mistral, Zephyr, Gemma, Phi-3, a Qwen-style indented one) and templates that go
 * through each construct (macros included), with five conversations, against Python's Jinja2: the answers it gave
 * (recorded in jinja-expected.json by Jinja2 3.1.2, the macro cases by 3.1.6, through render_jinja.py), and, where
 * /usr/bin/python3 has jinja2 (.ci/run installs Debian's python3-jinja2), Jinja2 itself again.
 */
class JinjaTemplateTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode cases() throws Exception {
        return JSON.readTree(JinjaTemplateTest.class.getResourceAsStream("/chat/jinja-cases.json"));
    }

    /** key (template|conversation|add_generation_prompt) -> {"text"} or {"error", "raised"}, rendered here. */
    static Map<String, Map<String, Object>> renderAll(JsonNode cases) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (var t : cases.get("templates").properties()) {
            JinjaTemplate template = JinjaTemplate.parse(t.getValue().asText(), t.getKey());
            for (var c : cases.get("conversations").properties()) {
                Object messages = ChatTemplate.value(c.getValue());
                for (boolean agp : new boolean[] {false, true}) {
                    Map<String, Object> vars = new java.util.HashMap<>(Map.of("messages", messages, "add_generation_prompt", agp, "bos_token", "<s>",
                            "eos_token", "</s>"));
                    vars.put("tools", null); // as transformers passes them
                    vars.put("documents", null);
                    Map<String, Object> r = new LinkedHashMap<>();
                    try {
                        r.put("text", template.render(vars));
                    } catch (JinjaTemplate.TemplateError e) {
                        r.put("error", e.getMessage());
                    }
                    out.put(t.getKey() + "|" + c.getKey() + "|" + (agp ? "True" : "False"), r);
                }
            }
        }
        return out;
    }

    static void compare(JsonNode expected, Map<String, Map<String, Object>> actual, String against) {
        assertEquals(expected.size(), actual.size(), "cases");
        List<String> wrong = new ArrayList<>();
        for (var e : expected.properties()) {
            Map<String, Object> got = actual.get(e.getKey());
            JsonNode want = e.getValue();
            if (want.has("text")) {
                if (!want.get("text").asText().equals(got.get("text"))) {
                    wrong.add(e.getKey() + "\n  " + against + ": " + JSON.valueToTree(want.get("text").asText()) + "\n  here:   "
                            + (got.containsKey("text") ? JSON.valueToTree(got.get("text")) : "error " + got.get("error")));
                }
            } else if (!got.containsKey("error")) {
                wrong.add(e.getKey() + ": " + against + " fails (" + want.get("error").asText() + "), here it renders " + JSON.valueToTree(got.get("text")));
            } else if (want.get("raised").asBoolean() && !want.get("error").asText().equals(got.get("error"))) {
                wrong.add(e.getKey() + ": raise_exception's message " + want.get("error") + ", here " + got.get("error"));
            }
        }
        if (!wrong.isEmpty()) fail(wrong.size() + " of " + expected.size() + " renders differ from " + against + ":\n" + String.join("\n", wrong));
    }

    @Test
    void rendersAsJinja2Rendered() throws Exception {
        JsonNode expected = JSON.readTree(JinjaTemplateTest.class.getResourceAsStream("/chat/jinja-expected.json"));
        compare(expected, renderAll(cases()), "Jinja2 (recorded)");
    }

    static final String PYTHON = System.getProperty("crucible.python", "/usr/bin/python3");

    static boolean jinja2Available() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import jinja2").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void rendersAsJinja2RendersNow(@TempDir Path dir) throws Exception {
        boolean required = System.getenv("CRUCIBLE_REQUIRE_JINJA2") != null;
        if (required) assertTrue(jinja2Available(), PYTHON + " has no jinja2, and CRUCIBLE_REQUIRE_JINJA2 is set");
        assumeTrue(jinja2Available(), PYTHON + " with jinja2 not found: install Debian's python3-jinja2 to run this check");
        Path cases = dir.resolve("cases.json"), script = dir.resolve("render_jinja.py"), out = dir.resolve("out.json");
        try (var in = JinjaTemplateTest.class.getResourceAsStream("/chat/jinja-cases.json")) {
            Files.copy(in, cases);
        }
        try (var in = JinjaTemplateTest.class.getResourceAsStream("/chat/render_jinja.py")) {
            Files.copy(in, script);
        }
        Process p = new ProcessBuilder(PYTHON, script.toString(), cases.toString(), out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), log);
        compare(JSON.readTree(out.toFile()), renderAll(cases()), "Jinja2 " + version());
    }

    static String version() throws Exception {
        Process p = new ProcessBuilder(PYTHON, "-c", "import jinja2; print(jinja2.__version__)").start();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    @Test
    void whatItDoesNotKnowIsAnErrorNamingTheLine() {
        var e = assertThrows(JinjaTemplate.TemplateError.class, () -> JinjaTemplate.parse("a\n{% call m() %}x{% endcall %}", "t.jinja"));
        assertTrue(e.getMessage().contains("t.jinja line 2") && e.getMessage().contains("'call'"), e.getMessage());
        e = assertThrows(JinjaTemplate.TemplateError.class, () -> JinjaTemplate.parse("{{ x | nosuchfilter }}", "t").render(Map.of("x", "a")));
        assertTrue(e.getMessage().contains("nosuchfilter"), e.getMessage());
        e = assertThrows(JinjaTemplate.TemplateError.class, () -> JinjaTemplate.parse("{% if x %}never closed", "t"));
        assertTrue(e.getMessage().contains("endif"), e.getMessage());
        e = assertThrows(JinjaTemplate.TemplateError.class, () -> JinjaTemplate.parse("ok\n\n{{ 'a' + }}", "t"));
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        e = assertThrows(JinjaTemplate.TemplateError.class, () -> JinjaTemplate.parse("{{ messages.append(1) }}", "t").render(Map.of("messages", new ArrayList<>())));
        assertTrue(e.getMessage().contains("append"), "the sandbox is immutable: " + e.getMessage());
        // what would otherwise escape as another exception (and be a server error) is the template's error
        String[][] cases = {{"{{ 4 is divisibleby 0 }}", "divisibleby 0"}, {"{{ 'a'.startswith() }}", "'startswith' needs 1 argument"},
                {"{{ 'a'|replace('a') }}", "'replace' needs 2 arguments"}, {"{{ range(100000000)|length }}", "range() of more than"},
                {"{{ 'ab' * 100000000 }}", "repeated to more than"}, {"{{ 'bad \\u12' }}", "needs 4 hex digits"}, {"{{ x is eq }}", "'eq' needs 1 argument"},
                {"{{ 99999999999999999999 }}", "does not parse"}, {"{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "more than 200 nested macro calls"},
                {"{% macro f(a, b) %}{% endmacro %}{{ f(1, a=2) }}", "got multiple values for argument 'a'"},
                {"{% macro m() %}a{% break %}b{% endmacro %}{% for i in [1, 2] %}{{ i }}{{ m() }}{% endfor %}", "'break' outside a loop in macro 'm'"}};
        for (String bad : new String[] {"{% macro m(a,) %}{% endmacro %}", "{% macro m(a b) %}{% endmacro %}", "{% macro m(,) %}{% endmacro %}"}) {
            assertThrows(JinjaTemplate.TemplateError.class, () -> JinjaTemplate.parse(bad, "t"), bad);
        }
        for (String[] c : cases) {
            var err = assertThrows(JinjaTemplate.TemplateError.class, () -> JinjaTemplate.parse(c[0], "t").render(Map.of("x", 1L)), c[0]);
            assertTrue(err.getMessage().contains(c[1]), c[0] + " -> " + err.getMessage());
        }
    }
}
