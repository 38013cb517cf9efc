package dev.crucible.eval.report;

import java.util.Locale;

/** Minimal HTML building with escaping: every piece of text from data goes through {@link #esc}. */
final class Html {
    private Html() {}

    static String esc(String s) {
        if (s == null) return "";
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> {
                    // control characters other than tab and newline would make the file invalid
                    if (c < 0x20 && c != '\n' && c != '\t') sb.append("&#xFFFD;");
                    else sb.append(c);
                }
            }
        }
        return sb.toString();
    }

    /** A number for a table cell: 4 decimals, or scientific notation for the very small and very large; empty for NaN. */
    static String fmt(double v) {
        if (Double.isNaN(v)) return "";
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a != 0 && (a < 1e-3 || a >= 1e5) ? "%.3e" : "%.4f", v);
    }
}
