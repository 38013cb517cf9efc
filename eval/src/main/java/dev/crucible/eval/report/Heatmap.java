package dev.crucible.eval.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * A heat map drawn with Java2D into a PNG: rows (layers, shallowest at the top) by columns
 * (checkpoints), each cell coloured on a light-to-dark blue scale between the smallest and largest
 * value, with the value printed in the cell when cells are large enough; NaN cells stay blank.
 */
public final class Heatmap {
    private Heatmap() {}

    public static byte[] png(String title, String rowLabel, String[] rows, String colLabel, String[] cols, double[][] values, int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
        g.setColor(Color.BLACK);
        g.setFont(font.deriveFont(Font.BOLD, 14f));
        g.drawString(title, 64, 20);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();
        int left = 64, right = width - 16, top = 34, bottom = height - 40;
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (double[] r : values) {
            for (double v : r) {
                if (Double.isNaN(v)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (rows.length == 0 || cols.length == 0 || lo > hi) {
            g.drawString("no data", (left + right) / 2 - 20, (top + bottom) / 2);
            return Chart.encode(img, g);
        }
        double cw = (double) (right - left) / cols.length, ch = (double) (bottom - top) / rows.length;
        for (int r = 0; r < rows.length; r++) {
            for (int c = 0; c < cols.length; c++) {
                double v = values[r][c];
                int x = left + (int) (c * cw), y = top + (int) (r * ch), w = (int) ((c + 1) * cw) - (int) (c * cw), h = (int) ((r + 1) * ch) - (int) (r * ch);
                if (Double.isNaN(v)) continue;
                double f = hi > lo ? (v - lo) / (hi - lo) : 0.5;
                Color fill = shade(f);
                g.setColor(fill);
                g.fillRect(x, y, w, h);
                String text = Chart.num(v);
                if (fm.stringWidth(text) + 4 < w && fm.getAscent() + 2 < h) {
                    g.setColor(f > 0.55 ? Color.WHITE : Color.BLACK);
                    g.drawString(text, x + (w - fm.stringWidth(text)) / 2, y + (h + fm.getAscent()) / 2 - 1);
                }
            }
        }
        g.setColor(Color.GRAY);
        g.drawRect(left, top, right - left, bottom - top);
        g.setColor(Color.DARK_GRAY);
        int every = Math.max(1, (int) Math.ceil(rows.length * (fm.getHeight() + 2) / (double) (bottom - top)));
        for (int r = 0; r < rows.length; r += every) {
            g.drawString(rows[r], left - 6 - fm.stringWidth(rows[r]), top + (int) ((r + 0.5) * ch) + fm.getAscent() / 2);
        }
        int everyCol = Math.max(1, (int) Math.ceil(cols.length * 48.0 / (right - left)));
        for (int c = 0; c < cols.length; c += everyCol) {
            g.drawString(cols[c], left + (int) ((c + 0.5) * cw) - fm.stringWidth(cols[c]) / 2, bottom + 14);
        }
        g.drawString(colLabel + "; " + rowLabel + " downwards; colour from " + Chart.num(lo) + " (light) to " + Chart.num(hi) + " (dark)", left, height - 10);
        return Chart.encode(img, g);
    }

    /** Light (f = 0) to dark blue (f = 1). */
    static Color shade(double f) {
        f = Math.max(0, Math.min(1, f));
        return new Color((int) Math.round(235 - f * (235 - 8)), (int) Math.round(242 - f * (242 - 48)), (int) Math.round(250 - f * (250 - 107)));
    }
}
