package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import dev.crucible.io.AtomicWrite;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/** The charts of {@link Figures}, embedded in the page as PNG data and written beside it as files. */
final class CurvesSection implements Section.Whole {
    static final int WIDTH = 900, HEIGHT = 420;

    @Override
    public void write(StringBuilder h, List<Run> runs, Path outDir) throws IOException {
        Files.createDirectories(outDir.resolve("charts"));
        h.append("<h2>Curves</h2>\n");
        for (Figures.Figure f : Figures.figures(runs)) {
            byte[] png = f.chart().png(WIDTH, HEIGHT);
            AtomicWrite.writeBytes(outDir.resolve("charts").resolve(f.file()), png);
            h.append("<figure><img alt=\"").append(esc(f.chart().title())).append("\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                    .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png)).append("\"><figcaption>")
                    .append(esc(f.caption())).append("</figcaption></figure>\n");
        }
    }
}
