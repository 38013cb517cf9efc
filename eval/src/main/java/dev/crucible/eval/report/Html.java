package dev.crucible.eval.report;

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
}
