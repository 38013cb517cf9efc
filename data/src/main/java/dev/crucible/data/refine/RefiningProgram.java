package dev.crucible.data.refine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A ProX refining program (Zhou et al., "Programming Every Example"): one operation per line, as a
 * refining model writes them.
 *
 * <pre>
 * remove_lines(line_start=3, line_end=7)     # 0-based lines of the whole document, inclusive
 * remove_lines(all=True)
 * normalize(source_str="Click here", target_str="")
 * normalize(source_str="Click here")         # the one-argument form deletes the string
 * keep_doc()
 * drop_doc()                                 # the document-level program
 * </pre>
 *
 * Arguments are keyword arguments with Python literals (strings in single or double quotes with
 * Python's escapes, integers, True/False), so a string may hold commas, quotes, parentheses, '='
 * and any Unicode; ProX's own parser splits on ',' and '=' and mis-reads such strings. A line that
 * is not one of these operations with exactly its arguments is an error, counted for the
 * executor's safety rule (ProX ignores lines it does not recognise; here model output that does
 * not parse counts against the program, as the issue asks). A range with line_start after
 * line_end, or a negative line, is an error too.
 */
public record RefiningProgram(List<Op> ops, List<String> errors) {
    public RefiningProgram {
        ops = List.copyOf(ops);
        errors = List.copyOf(errors);
    }

    public sealed interface Op permits RemoveLines, RemoveAll, Normalize, KeepDoc, DropDoc {
        /** The operation as a program line, its strings quoted so that parsing it gives it back. */
        String render();
    }

    /** Lines start to end of the whole document, 0-based, inclusive. */
    public record RemoveLines(int start, int end) implements Op {
        @Override
        public String render() {
            return "remove_lines(line_start=" + start + ", line_end=" + end + ")";
        }
    }

    public record RemoveAll() implements Op {
        @Override
        public String render() {
            return "remove_lines(all=True)";
        }
    }

    /**
     * Every occurrence of source in the document becomes target. oneArgument: written without
     * target_str (a deletion), which ProX's executor applies even to a single space.
     */
    public record Normalize(String source, String target, boolean oneArgument) implements Op {
        public Normalize(String source, String target) {
            this(source, target, false);
        }

        @Override
        public String render() {
            return "normalize(source_str=" + quote(source) + (oneArgument ? "" : ", target_str=" + quote(target)) + ")";
        }
    }

    public record KeepDoc() implements Op {
        @Override
        public String render() {
            return "keep_doc()";
        }
    }

    public record DropDoc() implements Op {
        @Override
        public String render() {
            return "drop_doc()";
        }
    }

    public static RefiningProgram of(List<Op> ops) {
        return new RefiningProgram(ops, List.of());
    }

    /** The program's operations, one per line (an empty program is keep_doc()). */
    public String render() {
        if (ops.isEmpty()) return new KeepDoc().render();
        StringBuilder sb = new StringBuilder();
        for (Op op : ops) sb.append(sb.isEmpty() ? "" : "\n").append(op.render());
        return sb.toString();
    }

    /** Parses a program; lines that are not operations become errors, never exceptions. */
    public static RefiningProgram parse(String text) {
        List<Op> ops = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (String raw : text.split("\n", -1)) {
            String line = raw.strip();
            if (line.isEmpty()) continue;
            try {
                ops.add(parseLine(line));
            } catch (IllegalArgumentException e) {
                errors.add(line + "  <- " + e.getMessage());
            }
        }
        return new RefiningProgram(ops, errors);
    }

    private static Op parseLine(String line) {
        Call c = new Call(line);
        String name = c.identifier();
        Map<String, Object> args = c.arguments();
        return switch (name) {
            case "remove_lines" -> {
                if (args.containsKey("all")) {
                    if (args.size() != 1 || !Boolean.TRUE.equals(args.get("all"))) throw new IllegalArgumentException("remove_lines(all=True) takes nothing else");
                    yield new RemoveAll();
                }
                expectKeys(args, List.of("line_start", "line_end"), List.of());
                int start = integer(args, "line_start"), end = integer(args, "line_end");
                if (start < 0 || end < start) throw new IllegalArgumentException("line_start " + start + " and line_end " + end + " are not a range");
                yield new RemoveLines(start, end);
            }
            case "normalize" -> {
                expectKeys(args, List.of("source_str"), List.of("target_str"));
                boolean one = !args.containsKey("target_str");
                yield new Normalize(string(args, "source_str"), one ? "" : string(args, "target_str"), one);
            }
            case "keep_doc" -> {
                expectKeys(args, List.of(), List.of());
                yield new KeepDoc();
            }
            case "drop_doc" -> {
                expectKeys(args, List.of(), List.of());
                yield new DropDoc();
            }
            default -> throw new IllegalArgumentException("unknown operation '" + name + "'");
        };
    }

    private static void expectKeys(Map<String, Object> args, List<String> required, List<String> optional) {
        for (String k : required) if (!args.containsKey(k)) throw new IllegalArgumentException("missing argument '" + k + "'");
        for (String k : args.keySet()) {
            if (!required.contains(k) && !optional.contains(k)) throw new IllegalArgumentException("unexpected argument '" + k + "'");
        }
    }

    private static int integer(Map<String, Object> args, String key) {
        if (args.get(key) instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) return (int) (long) l;
        throw new IllegalArgumentException("'" + key + "' must be an integer");
    }

    private static String string(Map<String, Object> args, String key) {
        if (args.get(key) instanceof String s) return s;
        throw new IllegalArgumentException("'" + key + "' must be a string");
    }

    /** A string as a Python literal in double quotes, escaping what must be escaped. */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20 || ch == 0x7f) sb.append(String.format("\\x%02x", (int) ch));
                    else sb.append(ch);
                }
            }
        }
        return sb.append('"').toString();
    }

    /** A cursor over one line: name(key=literal, ...) and nothing after the closing parenthesis. */
    private static final class Call {
        private final String s;
        private int i;

        Call(String s) {
            this.s = s;
        }

        String identifier() {
            skipSpace();
            int start = i;
            while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) i++;
            if (i == start) throw new IllegalArgumentException("not an operation");
            return s.substring(start, i);
        }

        Map<String, Object> arguments() {
            expect('(');
            Map<String, Object> args = new TreeMap<>();
            skipSpace();
            if (peek() == ')') {
                i++;
            } else {
                while (true) {
                    String key = identifier();
                    expect('=');
                    skipSpace();
                    if (args.put(key, literal()) != null) throw new IllegalArgumentException("argument '" + key + "' given twice");
                    skipSpace();
                    char ch = peek();
                    i++;
                    if (ch == ')') break;
                    if (ch != ',') throw new IllegalArgumentException("expected ',' or ')' at column " + i);
                    skipSpace();
                    if (peek() == ')') { // a trailing comma, as Python allows
                        i++;
                        break;
                    }
                }
            }
            skipSpace();
            if (i != s.length()) throw new IllegalArgumentException("text after the closing parenthesis");
            return args;
        }

        private Object literal() {
            char ch = peek();
            if (ch == '"' || ch == '\'') return string(ch);
            int start = i;
            if (ch == '-' || ch == '+') i++;
            while (i < s.length() && Character.isLetterOrDigit(s.charAt(i))) i++;
            String word = s.substring(start, i);
            if (word.equals("True")) return Boolean.TRUE;
            if (word.equals("False")) return Boolean.FALSE;
            try {
                return Long.parseLong(word);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a literal: '" + word + "'");
            }
        }

        private String string(char quote) {
            i++;
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (i >= s.length()) throw new IllegalArgumentException("unterminated string");
                char ch = s.charAt(i++);
                if (ch == quote) return sb.toString();
                if (ch != '\\') {
                    sb.append(ch);
                    continue;
                }
                if (i >= s.length()) throw new IllegalArgumentException("unterminated string");
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case '0' -> sb.append('\0');
                    case '\\', '\'', '"' -> sb.append(e);
                    case 'x' -> sb.append((char) hex(2));
                    case 'u' -> sb.append((char) hex(4));
                    case 'U' -> sb.appendCodePoint(hex(8));
                    default -> sb.append('\\').append(e); // Python keeps unknown escapes as written
                }
            }
        }

        private int hex(int digits) {
            if (i + digits > s.length()) throw new IllegalArgumentException("truncated escape");
            try {
                int v = Integer.parseUnsignedInt(s.substring(i, i + digits), 16);
                if (!Character.isValidCodePoint(v)) throw new IllegalArgumentException("escape out of range");
                i += digits;
                return v;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad escape");
            }
        }

        private void expect(char ch) {
            skipSpace();
            if (peek() != ch) throw new IllegalArgumentException("expected '" + ch + "' at column " + (i + 1));
            i++;
        }

        private char peek() {
            if (i >= s.length()) throw new IllegalArgumentException("unexpected end of line");
            return s.charAt(i);
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }
    }
}
