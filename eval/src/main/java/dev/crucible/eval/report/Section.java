package dev.crucible.eval.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A part of the report page. The page is these in order: each {@link Whole} section once, about all
 * runs together, and each {@link PerRun} section under every run's heading. A new part of the report
 * (diagnostics, quantisation, a sweep's table) is one class here and its place in {@link Report}'s lists.
 */
interface Section {

    /** About all the report's runs together; may write files (charts) into outDir. */
    interface Whole extends Section {
        void write(StringBuilder html, List<Run> runs, Path outDir) throws IOException;
    }

    /** About one run. */
    interface PerRun extends Section {
        void write(StringBuilder html, Run run);
    }
}
