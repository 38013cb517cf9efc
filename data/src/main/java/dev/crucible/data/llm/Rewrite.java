package dev.crucible.data.llm;

import dev.crucible.data.pipeline.Doc;
import dev.crucible.data.pipeline.Operator;
import dev.crucible.data.pipeline.Params;

/**
 * rewrite: each document sent to a completion endpoint with a prompt template (SwallowCode's
 * rewriting, the rephrasing papers); the answer replaces the text ({@code mode: replace}) or goes
 * into the metadata ({@code mode: field}, key {@code field}, "rewrite") beside the original. The
 * model and prompt are recorded in the metadata ("rewrite_model", "rewrite_prompt"). A document whose
 * request fails after every retry, or whose answer is empty, keeps its original text, with the reason
 * in "rewrite_error"; nothing is dropped. The summary counts rewritten, cached, failed and
 * empty answers. In-flight requests: at most the recipe's threads and the operator's concurrency.
 *
 * <pre>
 * - rewrite: {endpoint: http://localhost:8000/v1, model: my-model, prompt: prompts/rephrase.txt, max_tokens: 1024}
 * </pre>
 */
public record Rewrite(CompletionClient client, String template, String promptName, boolean replace, String field, boolean strip) implements Operator {
    public static final String DEFAULT_PROMPT = "Rewrite the following text in clear, well-formed English, keeping all of its information.\n\n{text}\n\nRewritten text:\n";

    public static Rewrite of(Params p) {
        String mode = p.string("mode", "replace");
        if (!mode.equals("replace") && !mode.equals("field")) throw new IllegalArgumentException("parameter 'mode' must be replace or field, got '" + mode + "'");
        String template = EndpointParams.template(p, DEFAULT_PROMPT);
        String name = p.string("prompt", "default");
        String field = p.string("field", "rewrite");
        boolean strip = p.bool("strip", true);
        return new Rewrite(EndpointParams.client(p, "rewrite-cache", 512), template, name, mode.equals("replace"), field, strip);
    }

    @Override
    public String name() {
        return "rewrite";
    }

    @Override
    public Outcome apply(Doc doc) {
        CompletionClient.Answer a = client.complete(template.replace("{text}", doc.text()));
        Doc base = doc.withMeta("rewrite_model", client.settings().model()).withMeta("rewrite_prompt", promptName);
        return switch (a) {
            case CompletionClient.Failure f -> new Outcome(base.withMeta("rewrite_error", f.why()), "failed", f.why() + " (" + f.attempts() + " attempts)");
            case CompletionClient.Text t -> {
                String text = strip ? t.text().strip() : t.text();
                String rule = t.cached() ? "rewritten_cached" : "rewritten";
                if (text.isEmpty()) yield new Outcome(base.withMeta("rewrite_error", "empty answer"), "empty_answer", "the endpoint answered nothing");
                if (!replace) yield new Outcome(base.withMeta(field, text), rule, text.length() + " characters");
                yield Outcome.changed(base.withText(text), rule, t.attempts() > 1 ? "after " + t.attempts() + " attempts" : "");
            }
        };
    }
}
