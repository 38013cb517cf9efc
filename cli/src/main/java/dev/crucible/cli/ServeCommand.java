package dev.crucible.cli;

import dev.crucible.eval.serve.CompletionServer;
import dev.crucible.tensor.WorkerPool;
import dev.crucible.train.Checkpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a checkpoint over OpenAI's HTTP API: GET /v1/models and /v1/models/{id}, POST /v1/completions (prompt as text or token ids, max_tokens, "
                + "temperature, top_p, frequency and presence penalties, logit_bias, stop, seed, n, logprobs with echo, stream) and POST /v1/chat/completions (messages through the model's chat template). lm-evaluation-harness scores through it with "
                + "--model local-completions --model_args base_url=http://HOST:PORT/v1/completions,tokenized_requests=True,... (see docs/serving.md)."})
public final class ServeCommand implements Callable<Integer> {
    static final class Source {
        @Option(names = "--checkpoint", description = "Model directory (a checkpoint, or an imported Hugging Face model).")
        Path checkpoint;
        @Option(names = "--run", description = "A run directory: its newest checkpoint.")
        Path run;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 for every interface).")
    String host;
    @Option(names = "--port", defaultValue = "8000", description = "Port (default ${DEFAULT-VALUE}; 0: any free one).")
    int port;
    @Option(names = "--queue", defaultValue = "16", description = "Requests that may wait for the model; more are answered 429 (default ${DEFAULT-VALUE}).")
    int queue;
    @Option(names = "--batch", defaultValue = "8", description = "Prompts scored in one forward pass, and sequences generated together (default ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--name", description = "The model's name in the API, which requests' model field must give when they give one (default: the checkpoint "
            + "directory's name; for --run, RUN/CHECKPOINT, and the run's name also answers).")
    String name;
    @Option(names = "--chat-template", description = "A Jinja chat template file for /v1/chat/completions (default: the checkpoint's own, "
            + "chat_template.jinja or tokenizer_config.json's chat_template).")
    Path chatTemplate;
    @Option(names = "--threads", defaultValue = "0", description = "Worker threads (0 = all cores).")
    int threads;

    @Override
    public Integer call() throws Exception {
        if (queue < 1 || batch < 1) throw new UserError("--queue and --batch must be at least 1");
        if (chatTemplate != null && !Files.isRegularFile(chatTemplate)) throw new UserError(chatTemplate + ": no such chat template file");
        WorkerPool pool = new WorkerPool(WorkerPool.threadsFor(threads));
        CompletionServer.Settings settings = new CompletionServer.Settings(host, port, queue, batch, chatTemplate);
        CompletionServer server;
        if (source.run != null) { // the run's newest checkpoint, and a newer one as soon as the trainer writes it
            Path run = source.run;
            if (Checkpoints.list(run).isEmpty()) throw new UserError(run + ": no checkpoints");
            String runName = run.toAbsolutePath().normalize().getFileName().toString();
            server = new CompletionServer(new CompletionServer.Source() {
                public Path checkpoint() throws java.io.IOException {
                    return Checkpoints.list(run).getLast();
                }

                public String name(Path ck) {
                    return name != null ? name : runName + "/" + ck.getFileName();
                }

                public java.util.List<String> aliases() { // a client keeps one name while the run writes checkpoints
                    return name != null ? java.util.List.of() : java.util.List.of(runName);
                }
            }, settings, pool);
        } else {
            Path ck = source.checkpoint;
            if (!Files.isRegularFile(ck.resolve("config.json"))) throw new UserError(ck + ": not a model directory (no config.json)");
            server = new CompletionServer(ck, name != null ? name : ck.toAbsolutePath().normalize().getFileName().toString(), settings, pool);
        }
        System.out.printf("serving %s on http://%s:%d/v1%s (Ctrl-C to stop)%n", server.modelName(), host, server.port(),
                source.run != null ? ", the run's newest checkpoint at each request" : "");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            pool.close();
        }));
        Thread.currentThread().join(); // until the process is stopped
        return 0;
    }
}
