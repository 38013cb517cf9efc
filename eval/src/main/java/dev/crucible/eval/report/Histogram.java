package dev.crucible.eval.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Arrays;

/**
 * A histogram drawn with Java2D into a PNG: equal-width bins between the 0.5th and 99.5th
 * percentiles (outliers are counted in the edge bins, so a long tail does not squash the rest),
 * optional vertical markers (e.g. a filter's default threshold).
 */
public final class Histogram {
    private Histogram() {}

    public static byte[] png(String title, String xLabel, double[] values, int bins, double[] markers, int width, int height) {
        double[] s = values.clone();
        Arrays.sort(s);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        g.setColor(Color.BLACK);
        g.setFont(font.deriveFont(Font.BOLD, 14f));
        g.drawString(title, 60, 20);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();
        int left = 60, right = width - 16, top = 34, bottom = height - 46;
        if (s.length == 0) {
            g.drawString("no documents", (left + right) / 2 - 30, (top + bottom) / 2);
            return Chart.encode(img, g);
        }
        double lo = s[(int) Math.floor(0.005 * (s.length - 1))], hi = s[(int) Math.ceil(0.995 * (s.length - 1))];
        if (hi <= lo) hi = lo + Math.max(1e-9, Math.abs(lo) * 0.01 + 1e-9);
        long[] count = new long[bins];
        for (double v : s) count[Math.max(0, Math.min(bins - 1, (int) ((v - lo) / (hi - lo) * bins)))]++;
        long max = Arrays.stream(count).max().orElse(1);
        g.setColor(new Color(0x1f77b4));
        double bw = (double) (right - left) / bins;
        for (int i = 0; i < bins; i++) {
            int h = (int) Math.round((double) count[i] / max * (bottom - top));
            g.fillRect(left + (int) (i * bw) + 1, bottom - h, Math.max(1, (int) bw - 1), h);
        }
        g.setColor(Color.GRAY);
        g.drawRect(left, top, right - left, bottom - top);
        g.setColor(Color.DARK_GRAY);
        for (double v : Chart.ticks(lo, hi, 6)) {
            int x = left + (int) ((v - lo) / (hi - lo) * (right - left));
            String t = Chart.num(v);
            g.drawString(t, x - fm.stringWidth(t) / 2, bottom + 16);
        }
        String maxLabel = Long.toString(max);
        g.drawString(maxLabel, left - 6 - fm.stringWidth(maxLabel), top + 10);
        g.drawString("0", left - 6 - fm.stringWidth("0"), bottom);
        g.drawString(xLabel + String.format(java.util.Locale.ROOT, "; %,d documents, 0.5th-99.5th percentile", s.length), left, height - 12);
        if (markers != null) {
            g.setColor(new Color(0xd62728));
            for (double m : markers) {
                if (m < lo || m > hi || Double.isNaN(m)) continue;
                int x = left + (int) ((m - lo) / (hi - lo) * (right - left));
                g.drawLine(x, top, x, bottom);
            }
        }
        return Chart.encode(img, g);
    }
}
