package dev.crucible.lint;

import com.puppycrawl.tools.checkstyle.Checker;
import com.puppycrawl.tools.checkstyle.ConfigurationLoader;
import com.puppycrawl.tools.checkstyle.PropertiesExpander;
import com.puppycrawl.tools.checkstyle.api.AuditEvent;
import com.puppycrawl.tools.checkstyle.api.AuditListener;
import com.puppycrawl.tools.checkstyle.api.CheckstyleException;
import com.puppycrawl.tools.checkstyle.api.Configuration;
import dev.crucible.data.pipeline.Doc;
import dev.crucible.data.pipeline.Operator;
import dev.crucible.data.pipeline.Params;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xml.sax.InputSource;

/**
 * java_style_filter: SwallowCode's second stage (a linter's score) for Java. Each document is checked
 * with Checkstyle (the Google or Sun style bundled with it, or a configuration file) and scored as
 * pylint scores Python, which SwallowCode thresholds at 7: 10 − 10 · (5 · errors + warnings + infos)
 * / lines of code (non-blank lines), so a file with one warning per ten lines scores 9 and the score
 * can fall below 0. Documents scoring at least {@code min_score} stay, the score in the metadata
 * ({@code score_key}, "style_score") and the most frequent check in the trace; a file Checkstyle
 * cannot parse is removed ("unparsable": java_syntax_filter, stage one, usually comes first). Each
 * pipeline thread has its own checker; the file is written under its public type's name in its
 * package's directories, so the file-name and package checks see what a real source tree would.
 *
 * <pre>
 * - java_style_filter: {min_score: 7.0}                        # google style
 * - java_style_filter: {config: sun, min_score: 5.0, where: {domain: code}}
 * </pre>
 */
public final class JavaStyleFilter implements Operator {
    private static final Pattern PUBLIC_TYPE = Pattern.compile("(?m)^\\s*public\\s+(?:(?:final|abstract|sealed|non-sealed|static|strictfp)\\s+)*"
            + "(?:class|interface|enum|record|@interface)\\s+([A-Za-z_$][A-Za-z0-9_$]*)");

    private static final Pattern PACKAGE = Pattern.compile("(?m)^\\s*package\\s+([A-Za-z_$][A-Za-z0-9_$.]*)\\s*;");

    private final Configuration config;
    private final String configName, scoreKey;
    private final double minScore;
    private final ThreadLocal<Lint> lints;

    private JavaStyleFilter(Configuration config, String configName, double minScore, String scoreKey) {
        this.config = config;
        this.configName = configName;
        this.minScore = minScore;
        this.scoreKey = scoreKey;
        this.lints = ThreadLocal.withInitial(this::newLint);
    }

    static JavaStyleFilter of(Params p) {
        String name = p.string("config", "google");
        double min = p.number("min_score", 7.0);
        return new JavaStyleFilter(load(name), name, min, p.string("score_key", "style_score"));
    }

    /** google, sun, or a Checkstyle configuration file. */
    static Configuration load(String name) {
        Properties props = new Properties();
        try (InputStream in = switch (name) {
            case "google" -> Checker.class.getResourceAsStream("/google_checks.xml");
            case "sun" -> Checker.class.getResourceAsStream("/sun_checks.xml");
            default -> Files.newInputStream(Path.of(name));
        }) {
            if (in == null) throw new IllegalArgumentException("Checkstyle's " + name + "_checks.xml is not on the class path");
            return ConfigurationLoader.loadConfiguration(new InputSource(in), new PropertiesExpander(props), ConfigurationLoader.IgnoredModulesOptions.OMIT);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException(name + ": no such file (config is google, sun or a Checkstyle configuration file)");
        } catch (IOException | CheckstyleException e) {
            throw new IllegalArgumentException(name + ": not a Checkstyle configuration (" + e.getMessage() + ")");
        }
    }

    @Override
    public String name() {
        return "java_style_filter";
    }

    /** A document's lint: the score, the violations by check, and whether it could be parsed. */
    public record Result(double score, int errors, int warnings, int infos, int lines, String commonest, boolean parsed) {}

    public Result check(String source) {
        return lints.get().check(source);
    }

    @Override
    public Outcome apply(Doc doc) {
        Result r = check(doc.text());
        if (!r.parsed()) return Outcome.remove("unparsable", "Checkstyle could not parse it: " + r.commonest());
        String v = String.format(Locale.ROOT, "%.2f", r.score());
        if (r.score() < minScore) {
            return Outcome.remove("low_score", String.format(Locale.ROOT, "%s score %s < min_score %.2f (%d errors, %d warnings, %d infos in %d lines; most: %s)",
                    configName, v, minScore, r.errors(), r.warnings(), r.infos(), r.lines(), r.commonest()));
        }
        return Outcome.keep(doc.withMeta(scoreKey, v));
    }

    private Lint newLint() {
        try {
            Checker checker = new Checker();
            checker.setModuleClassLoader(Checker.class.getClassLoader());
            checker.configure(config);
            Path dir = Files.createTempDirectory("crucible-lint");
            dir.toFile().deleteOnExit();
            Lint lint = new Lint(checker, dir);
            checker.addListener(lint);
            return lint;
        } catch (CheckstyleException | IOException e) {
            throw new IllegalStateException("cannot start Checkstyle with " + configName + ": " + e.getMessage(), e);
        }
    }

    /** One thread's checker and what it heard about the last file. */
    private static final class Lint implements AuditListener {
        private final Checker checker;
        private final Path dir;
        private int errors, warnings, infos;
        private String failure;
        private final java.util.Map<String, Integer> bySource = new java.util.HashMap<>();

        Lint(Checker checker, Path dir) {
            this.checker = checker;
            this.dir = dir;
        }

        Result check(String source) {
            errors = warnings = infos = 0;
            failure = null;
            bySource.clear();
            Matcher m = PUBLIC_TYPE.matcher(source), pkg = PACKAGE.matcher(source);
            Path folder = pkg.find() ? dir.resolve(pkg.group(1).replace('.', '/')) : dir;
            Path file = folder.resolve((m.find() ? m.group(1) : "Document") + ".java");
            try {
                Files.createDirectories(folder);
                Files.writeString(file, source, StandardCharsets.UTF_8);
                checker.process(List.of(file.toFile()));
            } catch (IOException | CheckstyleException e) {
                failure = e.getMessage();
            } finally {
                try { // the file and the package directories made for it, so the thread's directory stays empty
                    Files.deleteIfExists(file);
                    for (Path d = folder; !d.equals(dir); d = d.getParent()) Files.deleteIfExists(d);
                } catch (IOException ignored) {
                    // a leftover in a temporary directory
                }
            }
            int lines = 0;
            for (String l : source.split("\n", -1)) if (!l.isBlank()) lines++;
            String commonest = failure != null ? failure : bySource.entrySet().stream().max(java.util.Map.Entry.<String, Integer>comparingByValue()
                    .thenComparing(java.util.Map.Entry.comparingByKey(java.util.Comparator.reverseOrder()))).map(e -> e.getKey() + " x" + e.getValue()).orElse("none");
            double score = 10 - 10.0 * (5.0 * errors + warnings + infos) / Math.max(1, lines);
            return new Result(score, errors, warnings, infos, lines, commonest, failure == null);
        }

        @Override
        public void addError(AuditEvent e) {
            switch (e.getSeverityLevel()) {
                case ERROR -> errors++;
                case WARNING -> warnings++;
                case INFO -> infos++;
                case IGNORE -> { return; }
            }
            String src = e.getSourceName();
            bySource.merge(src.substring(src.lastIndexOf('.') + 1).replace("Check", ""), 1, Integer::sum);
        }

        @Override
        public void addException(AuditEvent e, Throwable t) {
            failure = String.valueOf(t.getMessage()).lines().findFirst().orElse("parse error");
        }

        @Override
        public void auditStarted(AuditEvent e) {}

        @Override
        public void auditFinished(AuditEvent e) {}

        @Override
        public void fileStarted(AuditEvent e) {}

        @Override
        public void fileFinished(AuditEvent e) {}
    }

    @Override
    public String toString() {
        return "java_style_filter(" + configName + ")";
    }
}
