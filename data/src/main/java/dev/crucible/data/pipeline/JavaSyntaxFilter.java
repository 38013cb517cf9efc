package dev.crucible.data.pipeline;

import com.sun.source.util.JavacTask;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

/**
 * java_syntax_filter: keeps Java sources that the JDK's own compiler parses without a syntax error
 * (SwallowCode's first stage, for Java). Only parsing: names and types are not resolved, so a file
 * needing other files still passes.
 */
record JavaSyntaxFilter(JavaCompiler javac, ThreadLocal<StandardJavaFileManager> files) implements Operator {
    static JavaSyntaxFilter of(Params p) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) throw new IllegalArgumentException("java_syntax_filter needs a JDK (this Java runtime has no compiler)");
        // A task without a file manager makes its own and opens the JVM's class path for it, every document: with
        // Spark's 170 jars there that was 3/4 of the filter's time. Parsing needs no class path; a file manager is
        // not thread-safe, so each thread keeps one.
        return new JavaSyntaxFilter(javac, ThreadLocal.withInitial(() -> {
            StandardJavaFileManager fm = javac.getStandardFileManager(null, Locale.ROOT, java.nio.charset.StandardCharsets.UTF_8);
            try {
                fm.setLocation(StandardLocation.CLASS_PATH, List.of());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return fm;
        }));
    }

    @Override
    public String name() {
        return "java_syntax_filter";
    }

    @Override
    public Outcome apply(Doc doc) {
        String firstError = firstSyntaxError(doc.text());
        return firstError == null ? Outcome.keep(doc) : Outcome.remove("syntax_error", firstError);
    }

    String firstSyntaxError(String source) {
        JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///Source.java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return source;
            }
        };
        DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
        JavacTask task = (JavacTask) javac.getTask(null, files.get(), diags, List.of("-proc:none", "-Xlint:none", "-nowarn"), null, List.of(file));
        try {
            task.parse();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        for (Diagnostic<? extends JavaFileObject> d : diags.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) return "line " + d.getLineNumber() + ": " + d.getMessage(Locale.ROOT);
        }
        return null;
    }
}
