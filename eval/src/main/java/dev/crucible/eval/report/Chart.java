package dev.crucible.eval.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A line chart drawn with Java2D into a PNG: lines with markers and optional error bands (±1
 * standard error), an optional horizontal reference line (chance), linear or logarithmic x axis.
 * Headless: needs no display. Points with NaN values are skipped.
 */
public final class Chart {
    public record Line(String label, double[] x, double[] y, double[] err) {}

    private final String title, xLabel, yLabel;
    private final boolean logX;
    private final List<Line> lines = new ArrayList<>();
    private double reference = Double.NaN;
    private String referenceLabel;

    public Chart(String title, String xLabel, String yLabel, boolean logX) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logX = logX;
    }

    public Chart line(String label, double[] x, double[] y, double[] err) {
        lines.add(new Line(label, x, y, err));
        return this;
    }

    public Chart reference(double y, String label) {
        this.reference = y;
        this.referenceLabel = label;
        return this;
    }

    public boolean isEmpty() {
        return lines.isEmpty();
    }

    public String title() {
        return title;
    }

    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd),
            new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf),
            new Color(0x393b79), new Color(0xad494a)};

    static Color color(int i) {
        return PALETTE[i % PALETTE.length];
    }

    private double tx(double x) {
        return logX ? Math.log10(x) : x;
    }

    private boolean usable(double x, double y) {
        return !Double.isNaN(y) && !Double.isInfinite(y) && !Double.isNaN(x) && (!logX || x > 0);
    }

    public byte[] png(int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();
        boolean legendRight = lines.size() > 1;
        int legendWidth = 0;
        if (legendRight) for (Line l : lines) legendWidth = Math.max(legendWidth, fm.stringWidth(l.label()) + 28);
        legendWidth = Math.min(legendWidth, width / 3);
        int left = 64, right = width - 16 - legendWidth, top = 34, bottom = height - 46;
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY, y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Line l : lines) {
            for (int i = 0; i < l.x().length; i++) {
                if (!usable(l.x()[i], l.y()[i])) continue;
                double e = l.err() != null && !Double.isNaN(l.err()[i]) ? l.err()[i] : 0;
                x0 = Math.min(x0, tx(l.x()[i]));
                x1 = Math.max(x1, tx(l.x()[i]));
                y0 = Math.min(y0, l.y()[i] - e);
                y1 = Math.max(y1, l.y()[i] + e);
            }
        }
        if (!Double.isNaN(reference)) {
            y0 = Math.min(y0, reference);
            y1 = Math.max(y1, reference);
        }
        g.setColor(Color.BLACK);
        g.setFont(font.deriveFont(Font.BOLD, 14f));
        g.drawString(title, left, 20);
        g.setFont(font);
        if (x0 > x1) {
            g.drawString("no data", (left + right) / 2 - 20, (top + bottom) / 2);
            return encode(img, g);
        }
        if (x0 == x1) {
            x0 -= 0.5;
            x1 += 0.5;
        }
        if (y0 == y1) {
            y0 -= Math.max(1e-3, Math.abs(y0) * 0.05);
            y1 += Math.max(1e-3, Math.abs(y1) * 0.05);
        }
        double pad = (y1 - y0) * 0.05;
        y0 -= pad;
        y1 += pad;
        final double fx0 = x0, fx1 = x1, fy0 = y0, fy1 = y1;
        java.util.function.DoubleUnaryOperator px = v -> left + (tx(v) - fx0) / (fx1 - fx0) * (right - left);
        java.util.function.DoubleUnaryOperator py = v -> bottom - (v - fy0) / (fy1 - fy0) * (bottom - top);
        // grid and ticks
        g.setColor(new Color(0xdddddd));
        g.setStroke(new BasicStroke(1f));
        for (double v : ticks(y0, y1, 6)) {
            int yy = (int) py.applyAsDouble(v);
            g.setColor(new Color(0xe5e5e5));
            g.drawLine(left, yy, right, yy);
            g.setColor(Color.DARK_GRAY);
            String s = num(v);
            g.drawString(s, left - 6 - fm.stringWidth(s), yy + 4);
        }
        List<Double> xt = new ArrayList<>();
        if (logX) for (int p = (int) Math.ceil(x0); p <= Math.floor(x1); p++) xt.add(Math.pow(10, p));
        if (xt.size() < 2) {
            xt.clear();
            for (double v : ticks(logX ? Math.pow(10, x0) : x0, logX ? Math.pow(10, x1) : x1, 6)) if (!logX || v > 0) xt.add(v);
        }
        for (double v : xt) {
            int xx = (int) px.applyAsDouble(v);
            if (xx < left - 1 || xx > right + 1) continue;
            g.setColor(new Color(0xe5e5e5));
            g.drawLine(xx, top, xx, bottom);
            g.setColor(Color.DARK_GRAY);
            String s = si(v);
            g.drawString(s, xx - fm.stringWidth(s) / 2, bottom + 16);
        }
        g.setColor(Color.GRAY);
        g.drawRect(left, top, right - left, bottom - top);
        g.setColor(Color.DARK_GRAY);
        g.drawString(xLabel + (logX ? " (log scale)" : ""), (left + right) / 2 - fm.stringWidth(xLabel) / 2, height - 12);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        gy.drawString(yLabel, -(top + bottom) / 2 - fm.stringWidth(yLabel) / 2, 14);
        gy.dispose();
        if (!Double.isNaN(reference)) {
            int yy = (int) py.applyAsDouble(reference);
            g.setColor(Color.GRAY);
            g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            g.drawLine(left, yy, right, yy);
            if (referenceLabel != null) g.drawString(referenceLabel, right - fm.stringWidth(referenceLabel) - 4, yy - 4);
        }
        g.setClip(left, top, right - left + 1, bottom - top + 1);
        for (int li = 0; li < lines.size(); li++) {
            Line l = lines.get(li);
            Color c = color(li);
            if (l.err() != null) {
                Path2D band = new Path2D.Double();
                List<double[]> upper = new ArrayList<>(), lower = new ArrayList<>();
                for (int i = 0; i < l.x().length; i++) {
                    if (!usable(l.x()[i], l.y()[i]) || Double.isNaN(l.err()[i])) continue;
                    upper.add(new double[] {px.applyAsDouble(l.x()[i]), py.applyAsDouble(l.y()[i] + l.err()[i])});
                    lower.add(new double[] {px.applyAsDouble(l.x()[i]), py.applyAsDouble(l.y()[i] - l.err()[i])});
                }
                if (upper.size() > 1) {
                    band.moveTo(upper.getFirst()[0], upper.getFirst()[1]);
                    for (double[] p : upper) band.lineTo(p[0], p[1]);
                    for (int i = lower.size() - 1; i >= 0; i--) band.lineTo(lower.get(i)[0], lower.get(i)[1]);
                    band.closePath();
                    g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 50));
                    g.fill(band);
                }
            }
            g.setColor(c);
            float[] dash = li >= PALETTE.length ? new float[] {5f, 3f} : null;
            g.setStroke(dash == null ? new BasicStroke(1.8f) : new BasicStroke(1.8f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, dash, 0f));
            Path2D path = new Path2D.Double();
            boolean started = false;
            int points = 0;
            for (int i = 0; i < l.x().length; i++) {
                if (!usable(l.x()[i], l.y()[i])) continue;
                double xx = px.applyAsDouble(l.x()[i]), yy = py.applyAsDouble(l.y()[i]);
                if (!started) path.moveTo(xx, yy);
                else path.lineTo(xx, yy);
                started = true;
                points++;
            }
            g.draw(path);
            if (points <= 40) {
                for (int i = 0; i < l.x().length; i++) {
                    if (!usable(l.x()[i], l.y()[i])) continue;
                    g.fillOval((int) px.applyAsDouble(l.x()[i]) - 3, (int) py.applyAsDouble(l.y()[i]) - 3, 6, 6);
                }
            }
        }
        g.setClip(null);
        if (legendRight) {
            int ly = top + 4;
            for (int li = 0; li < lines.size() && ly < bottom; li++) {
                g.setColor(color(li));
                g.fillRect(right + 10, ly, 12, 3);
                g.setColor(Color.DARK_GRAY);
                String s = lines.get(li).label();
                while (fm.stringWidth(s) > legendWidth - 28 && s.length() > 4) s = s.substring(0, s.length() - 2);
                g.drawString(s, right + 26, ly + 5);
                ly += 15;
            }
        }
        return encode(img, g);
    }

    /** The image as PNG bytes (disposes the graphics). */
    static byte[] encode(BufferedImage img, Graphics2D g) {
        g.dispose();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** About n round tick values covering [lo, hi]. */
    static List<Double> ticks(double lo, double hi, int n) {
        double span = hi - lo, raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), norm = raw / mag;
        double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
        List<Double> out = new ArrayList<>();
        for (long k = (long) Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) {
            double v = Double.parseDouble(String.format(Locale.ROOT, "%.12g", k * step)); // 3 x 0.2 is 0.6, not 0.6000000000000001
            out.add(k == 0 ? 0 : v);
        }
        return out;
    }

    static String num(double v) {
        double a = Math.abs(v);
        if (a == 0) return "0";
        if (a >= 1e4 || a < 1e-3) return String.format(Locale.ROOT, "%.1e", v);
        return String.format(Locale.ROOT, a >= 100 ? "%.0f" : a >= 1 ? "%.2f" : "%.3f", v).replaceAll("(\\.\\d*?)0+$", "$1").replaceAll("\\.$", "");
    }

    /** 1500 -> 1.5k, 2e6 -> 2M, 3e18 -> 3E (FLOPs reach exa). */
    public static String si(double v) {
        double a = Math.abs(v);
        String[] units = {"", "k", "M", "B", "T", "P", "E", "Z", "Y"};
        int u = 0;
        while (a >= 1000 && u < units.length - 1) {
            a /= 1000;
            v /= 1000;
            u++;
        }
        String s = String.format(Locale.ROOT, a >= 100 || a == Math.rint(a) ? "%.0f" : "%.1f", v);
        return s + units[u];
    }
}
