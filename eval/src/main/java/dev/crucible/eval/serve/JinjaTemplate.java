package dev.crucible.eval.serve;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The part of Jinja2 that Hugging Face chat templates use, rendered as transformers' {@code
 * apply_chat_template} renders them (an immutable sandbox with {@code trim_blocks}, {@code
 * lstrip_blocks} and loop controls; {@code raise_exception}, {@code tojson} with ensure_ascii off,
 * {@code namespace}, {@code range}, {@code strftime_now}): text, {@code {{ }}} outputs,
 * {@code {# #}} comments and whitespace control; if / elif / else, for (with {@code loop}, a filter
 * condition, else, break, continue, tuple targets), set (a name, a namespace attribute, or a block),
 * macro (arguments with defaults, by position or keyword; recursive), and transformers' {@code
 * generation} block; Python's expression semantics for the literals,
 * operators, filters, tests and string / dict methods such templates call. Values are Java's:
 * String, Long, Double, Boolean, List, Map, null for none. What it does not know (call blocks, imports,
 * an unknown filter) is a {@link TemplateError} naming the line, never a silently different text; a
 * test holds it equal to Python's Jinja2 on real templates.
 */
public final class JinjaTemplate {
    /** A template that does not parse, or fails as it renders (raise_exception included); the message names the line. */
    public static final class TemplateError extends RuntimeException {
        TemplateError(String message) {
            super(message);
        }
    }

    private final String name;
    private final List<Node> body;

    private JinjaTemplate(String name, List<Node> body) {
        this.name = name;
        this.body = body;
    }

    /** Parses a template; name says where it came from in errors. */
    public static JinjaTemplate parse(String source, String name) {
        source = source.replace("\r\n", "\n").replace('\r', '\n'); // Jinja2's newline_sequence
        if (source.endsWith("\n")) source = source.substring(0, source.length() - 1); // Jinja2 drops one trailing newline (keep_trailing_newline off)
        try {
            Parser p = new Parser(name, lex(source, name));
            List<Node> body = p.block(Parser.END_OF_TEMPLATE);
            return new JinjaTemplate(name, body);
        } catch (TemplateError e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) { // a literal or nesting this parser did not foresee: still the template's error
            throw new TemplateError(name + ": does not parse (" + e + ")");
        }
    }

    /** Renders with these variables (besides the globals). */
    public String render(Map<String, Object> vars) {
        Ctx ctx = new Ctx();
        ctx.scopes.add(new HashMap<>(vars));
        StringBuilder out = new StringBuilder();
        try {
            for (Node n : body) n.render(ctx, out);
        } catch (Flow f) {
            throw new TemplateError(name + ": '" + f.word + "' outside a loop");
        } catch (TemplateError e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) { // a template and data this interpreter did not foresee: still the template's error, not the server's
            throw new TemplateError(name + ": " + e);
        }
        return out.toString();
    }

    // ---------------------------------------------------------------- lexing: text, outputs, statements

    private enum Kind { TEXT, OUTPUT, STATEMENT }

    /** A piece of the template: text, or the inside of a {{ }} or {% %} tag; line is where it starts. */
    private record Piece(Kind kind, String text, int line) {}

    private static List<Piece> lex(String src, String name) {
        List<Piece> out = new ArrayList<>();
        int pos = 0, n = src.length();
        boolean stripNext = false; // the previous tag ended with '-'
        while (pos <= n) {
            int at = nextTag(src, pos);
            String text = src.substring(pos, at < 0 ? n : at);
            if (stripNext) text = text.stripLeading();
            stripNext = false;
            if (at < 0) {
                if (!text.isEmpty()) out.add(new Piece(Kind.TEXT, text, line(src, pos)));
                break;
            }
            char kind = src.charAt(at + 1);
            char mod = at + 2 < n ? src.charAt(at + 2) : ' ';
            if (mod == '-') {
                text = text.stripTrailing();
            } else if (kind != '{' && mod != '+') { // lstrip_blocks: a block or comment tag alone on its line takes the line's indentation
                int lineStart = text.lastIndexOf('\n') + 1;
                boolean atLineStart = lineStart > 0 || pos == 0 || src.charAt(pos - 1) == '\n';
                if (atLineStart && text.substring(lineStart).isBlank()) text = text.substring(0, lineStart);
            }
            if (!text.isEmpty()) out.add(new Piece(Kind.TEXT, text, line(src, pos)));
            int start = at + 2 + (mod == '-' || mod == '+' ? 1 : 0);
            String close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
            int end = kind == '#' ? src.indexOf(close, start) : closeOf(src, start, close, name);
            if (end < 0) throw new TemplateError(name + " line " + line(src, at) + ": '" + src.substring(at, at + 2) + "' is never closed");
            char before = end > start ? src.charAt(end - 1) : ' ';
            String inner = src.substring(start, before == '-' || before == '+' ? end - 1 : end).strip();
            pos = end + 2;
            if (before == '-') stripNext = true;
            else if (kind != '{' && before != '+' && pos < n && src.charAt(pos) == '\n') pos++; // trim_blocks
            if (kind == '{') out.add(new Piece(Kind.OUTPUT, inner, line(src, at)));
            if (kind == '%') {
                if (inner.equals("raw")) { // the text up to endraw, as it is
                    if (before != '-' && pos > end + 2) pos--; // trim_blocks does not apply to raw's own newline
                    int e = src.indexOf("endraw", pos);
                    int open = e < 0 ? -1 : src.lastIndexOf("{%", e);
                    int close2 = e < 0 ? -1 : src.indexOf("%}", e);
                    if (open < 0 || close2 < 0) throw new TemplateError(name + " line " + line(src, at) + ": 'raw' without 'endraw'");
                    String raw = src.substring(pos, open);
                    if (stripNext) raw = raw.stripLeading(); // {% raw -%}
                    stripNext = false;
                    if (src.charAt(open + 2) == '-') {
                        raw = raw.stripTrailing();
                    } else if (src.charAt(open + 2) != '+') { // lstrip_blocks before endraw too
                        int lineStart = raw.lastIndexOf('\n') + 1;
                        if (lineStart > 0 && raw.substring(lineStart).isBlank()) raw = raw.substring(0, lineStart);
                    }
                    if (!raw.isEmpty()) out.add(new Piece(Kind.TEXT, raw, line(src, pos)));
                    pos = close2 + 2;
                    if (src.charAt(close2 - 1) == '-') stripNext = true;
                    else if (pos < n && src.charAt(pos) == '\n') pos++;
                } else {
                    out.add(new Piece(Kind.STATEMENT, inner, line(src, at)));
                }
            }
            if (pos > n) break;
        }
        return out;
    }

    private static int nextTag(String src, int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    /** The position of close after from, skipping string literals and what brackets enclose (a dict literal's '}}'), as Jinja2's lexer balances them. */
    private static int closeOf(String src, int from, String close, String name) {
        int depth = 0;
        for (int i = from; i + 1 < src.length(); i++) {
            char c = src.charAt(i);
            if (c == '\'' || c == '"') {
                int j = i + 1;
                while (j < src.length() && src.charAt(j) != c) j += src.charAt(j) == '\\' ? 2 : 1;
                i = j;
            } else if (depth == 0 && src.startsWith(close, i)) {
                return i;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
                depth--;
            }
        }
        return -1;
    }

    private static int line(String src, int pos) {
        int l = 1;
        for (int i = 0; i < pos && i < src.length(); i++) if (src.charAt(i) == '\n') l++;
        return l;
    }

    // ---------------------------------------------------------------- expression tokens

    private enum T { NAME, STRING, INT, FLOAT, OP, END }

    private record Tok(T type, String text, Object value) {}

    private static List<Tok> tokens(String s, String where) {
        List<Tok> out = new ArrayList<>();
        int i = 0, n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (Character.isLetter(c) || c == '_') {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) j++;
                out.add(new Tok(T.NAME, s.substring(i, j), null));
                i = j;
            } else if (Character.isDigit(c)) {
                int j = i;
                while (j < n && (Character.isDigit(s.charAt(j)) || s.charAt(j) == '_')) j++;
                boolean real = j + 1 < n && s.charAt(j) == '.' && Character.isDigit(s.charAt(j + 1));
                if (real) {
                    j++;
                    while (j < n && Character.isDigit(s.charAt(j))) j++;
                }
                if (j < n && (s.charAt(j) == 'e' || s.charAt(j) == 'E')) {
                    real = true;
                    j++;
                    if (j < n && (s.charAt(j) == '+' || s.charAt(j) == '-')) j++;
                    while (j < n && Character.isDigit(s.charAt(j))) j++;
                }
                String num = s.substring(i, j).replace("_", "");
                out.add(real ? new Tok(T.FLOAT, num, Double.parseDouble(num)) : new Tok(T.INT, num, Long.parseLong(num)));
                i = j;
            } else if (c == '\'' || c == '"') {
                StringBuilder sb = new StringBuilder();
                int j = i + 1;
                for (; j < n && s.charAt(j) != c; j++) {
                    char d = s.charAt(j);
                    if (d != '\\' || j + 1 >= n) {
                        sb.append(d);
                        continue;
                    }
                    char e = s.charAt(++j);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        case 'r' -> sb.append('\r');
                        case '\\', '\'', '"' -> sb.append(e);
                        case 'a' -> sb.append('\u0007');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'v' -> sb.append('\u000b');
                        case '\n' -> { } // a line continuation
                        case 'x', 'u', 'U' -> {
                            int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                            if (j + digits >= n || !s.substring(j + 1, j + 1 + digits).chars().allMatch(h -> Character.digit(h, 16) >= 0)) {
                                throw new TemplateError(where + ": a \\" + e + " escape needs " + digits + " hex digits");
                            }
                            sb.appendCodePoint(Integer.parseUnsignedInt(s.substring(j + 1, j + 1 + digits), 16));
                            j += digits;
                        }
                        case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                            int k = j, v = 0;
                            while (k < n && k < j + 3 && s.charAt(k) >= '0' && s.charAt(k) <= '7') v = v * 8 + (s.charAt(k++) - '0');
                            sb.append((char) v);
                            j = k - 1;
                        }
                        default -> sb.append('\\').append(e); // Python keeps an unknown escape as it is
                    }
                }
                if (j >= n) throw new TemplateError(where + ": a string is never closed");
                out.add(new Tok(T.STRING, s.substring(i, j + 1), sb.toString()));
                i = j + 1;
            } else {
                String op = null;
                for (String o : new String[] {"//", "**", "==", "!=", "<=", ">="}) if (s.startsWith(o, i)) op = o;
                if (op == null && "+-*/%~<>()[]{},.:|=".indexOf(c) >= 0) op = String.valueOf(c);
                if (op == null) throw new TemplateError(where + ": unexpected character '" + c + "'");
                out.add(new Tok(T.OP, op, null));
                i += op.length();
            }
        }
        out.add(new Tok(T.END, "end of the tag", null));
        return out;
    }

    // ---------------------------------------------------------------- the tree

    private interface Node {
        void render(Ctx ctx, StringBuilder out);
    }

    private interface Expr {
        Object eval(Ctx ctx);
    }

    /** Jinja2's Undefined: empty when printed, false when tested, an error when used further. */
    record Undefined(String what) {}

    /** break and continue, unwinding to their loop. */
    private static final class Flow extends RuntimeException {
        final String word;

        Flow(String word) {
            super(word, null, false, false);
            this.word = word;
        }
    }

    private static final Flow BREAK = new Flow("break"), CONTINUE = new Flow("continue");

    /** A Python tuple (a literal, a dict's items): a list that prints in parentheses. */
    static final class Tuple extends ArrayList<Object> {
        Tuple(java.util.Collection<?> items) {
            super(items);
        }
    }

    /** A namespace(): the one mutable object, so that a loop can change what is seen after it. */
    static final class Namespace extends LinkedHashMap<String, Object> {}

    interface Callable {
        Object call(List<Object> args, Map<String, Object> kwargs, String where);
    }

    /**
     * A {% macro %}: a call renders its body in the scopes where the macro was defined plus one of its
     * arguments (positional, then by keyword, then the defaults, evaluated at the call; a missing one
     * is undefined) and returns the text, as Jinja2's macros do. Without caller, varargs and kwargs.
     */
    private record Macro(String name, List<String> params, Map<String, Expr> defaults, List<Node> body, List<Map<String, Object>> scopes)
            implements Callable {
        /** Nested calls at most (a macro calling itself without end would otherwise exhaust the stack). */
        static final int MAX_DEPTH = 200;
        private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

        @Override
        public Object call(List<Object> args, Map<String, Object> kwargs, String where) {
            if (args.size() > params.size()) throw new TemplateError(where + ": macro '" + name + "' takes not more than " + params.size() + " argument(s)");
            for (String k : kwargs.keySet()) {
                int i = params.indexOf(k);
                if (i < 0) throw new TemplateError(where + ": macro '" + name + "' takes no keyword argument '" + k + "'");
                if (i < args.size()) throw new TemplateError(where + ": macro '" + name + "' got multiple values for argument '" + k + "'");
            }
            int[] depth = DEPTH.get();
            if (depth[0] == MAX_DEPTH) throw new TemplateError(where + ": macro '" + name + "': more than " + MAX_DEPTH + " nested macro calls");
            Ctx ctx = new Ctx();
            ctx.scopes.addAll(scopes);
            Map<String, Object> own = new HashMap<>();
            ctx.scopes.add(own);
            // every argument is the macro's own name from the start: a default naming a later one sees it undefined, not an outer variable
            for (String p : params) own.put(p, new Undefined("'" + p + "' is undefined"));
            for (int i = 0; i < params.size(); i++) {
                String p = params.get(i);
                if (i < args.size()) own.put(p, args.get(i));
                else if (kwargs.containsKey(p)) own.put(p, kwargs.get(p));
                else if (defaults.containsKey(p)) own.put(p, defaults.get(p).eval(ctx));
            }
            StringBuilder out = new StringBuilder();
            depth[0]++;
            try {
                for (Node n : body) n.render(ctx, out);
            } catch (Flow f) { // Jinja2 refuses a break or continue outside a loop of the macro's own; it must not reach the caller's loop
                throw new TemplateError(where + ": '" + f.word + "' outside a loop in macro '" + name + "'");
            } finally {
                depth[0]--;
            }
            return out.toString();
        }

        @Override
        public String toString() {
            return "<Macro '" + name + "'>";
        }
    }

    private static final class Ctx {
        final List<Map<String, Object>> scopes = new ArrayList<>();

        Object get(String key) {
            for (int i = scopes.size() - 1; i >= 0; i--) if (scopes.get(i).containsKey(key)) return scopes.get(i).get(key);
            Object g = GLOBALS.get(key);
            return g != null ? g : new Undefined("'" + key + "' is undefined");
        }
    }

    private static final Map<String, Object> GLOBALS = new HashMap<>();
    /** What a range() or a repeated string may hold: a template builds prompts, not gigabytes. */
    static final int MAX_ITEMS = 1 << 20;

    static {
        GLOBALS.put("raise_exception", (Callable) (a, kw, where) -> {
            throw new TemplateError(a.isEmpty() ? "the template raised an exception" : str(a.getFirst()));
        });
        GLOBALS.put("namespace", (Callable) (a, kw, where) -> {
            Namespace ns = new Namespace();
            for (Object o : a) if (o instanceof Map<?, ?> m) m.forEach((k, v) -> ns.put(str(k), v));
            ns.putAll(kw);
            return ns;
        });
        GLOBALS.put("range", (Callable) (a, kw, where) -> {
            long start = 0, stop, step = 1;
            if (a.size() == 1) {
                stop = integer(a.get(0), where);
            } else {
                start = integer(a.get(0), where);
                stop = integer(a.get(1), where);
                if (a.size() > 2) step = integer(a.get(2), where);
            }
            if (step == 0) throw new TemplateError(where + ": range() step must not be zero");
            List<Object> out = new ArrayList<>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
                if (out.size() == MAX_ITEMS) throw new TemplateError(where + ": range() of more than " + MAX_ITEMS + " numbers");
                out.add(i);
            }
            return out;
        });
        GLOBALS.put("strftime_now", (Callable) (a, kw, where) -> JinjaBuiltins.strftime(str(a.getFirst()), java.time.LocalDateTime.now()));
    }

    // ---------------------------------------------------------------- parsing

    private static final class Parser {
        static final String[] END_OF_TEMPLATE = {};
        final String name;
        final List<Piece> pieces;
        int at;
        // the statement being parsed
        List<Tok> toks;
        int ti;
        String where;

        Parser(String name, List<Piece> pieces) {
            this.name = name;
            this.pieces = pieces;
        }

        /** Nodes up to a statement whose first word is one of ends (left unconsumed: the caller reads it), or the end of the template. */
        List<Node> block(String... ends) {
            List<Node> out = new ArrayList<>();
            while (at < pieces.size()) {
                Piece p = pieces.get(at);
                where = name + " line " + p.line();
                switch (p.kind()) {
                    case TEXT -> {
                        at++;
                        String text = p.text();
                        out.add((ctx, sb) -> sb.append(text));
                    }
                    case OUTPUT -> {
                        at++;
                        start(p);
                        Expr e = expression();
                        expectEnd();
                        String w = where;
                        out.add((ctx, sb) -> sb.append(str(e.eval(ctx), w)));
                    }
                    case STATEMENT -> {
                        start(p);
                        String word = toks.getFirst().text();
                        for (String e : ends) if (e.equals(word)) return out;
                        at++;
                        out.add(statement(word));
                    }
                }
            }
            if (ends.length > 0) throw new TemplateError(name + ": the template ends where '" + String.join("' or '", ends) + "' was expected");
            return out;
        }

        void start(Piece p) {
            where = name + " line " + p.line();
            toks = tokens(p.text(), where);
            ti = 0;
        }

        Node statement(String word) {
            ti++;
            String w = where;
            switch (word) {
                case "if" -> {
                    List<Expr> conds = new ArrayList<>();
                    List<List<Node>> bodies = new ArrayList<>();
                    conds.add(expression());
                    expectEnd();
                    bodies.add(block("elif", "else", "endif"));
                    while (true) {
                        String next = toks.getFirst().text();
                        at++;
                        ti = 1;
                        if (next.equals("elif")) {
                            conds.add(expression());
                            expectEnd();
                            bodies.add(block("elif", "else", "endif"));
                        } else if (next.equals("else")) {
                            expectEnd();
                            conds.add(ctx -> true);
                            bodies.add(block("endif"));
                        } else {
                            expectEnd();
                            break;
                        }
                    }
                    return (ctx, out) -> {
                        for (int i = 0; i < conds.size(); i++) {
                            if (truthy(conds.get(i).eval(ctx))) {
                                for (Node n : bodies.get(i)) n.render(ctx, out);
                                return;
                            }
                        }
                    };
                }
                case "for" -> {
                    List<String> targets = new ArrayList<>();
                    do targets.add(name()); while (accept(","));
                    expectWord("in");
                    Expr iter = ternary(false);
                    Expr filter = acceptWord("if") ? ternary(false) : null;
                    expectEnd();
                    List<Node> body = block("else", "endfor");
                    List<Node> orElse = List.of();
                    if (toks.getFirst().text().equals("else")) {
                        at++;
                        ti = 1;
                        expectEnd();
                        orElse = block("endfor");
                    }
                    at++;
                    ti = 1;
                    expectEnd();
                    List<Node> otherwise = orElse;
                    return (ctx, out) -> forLoop(ctx, out, targets, iter, filter, body, otherwise, w);
                }
                case "set" -> {
                    String target = name();
                    String attr = accept(".") ? name() : null;
                    if (peek().type() == T.END && attr == null) { // {% set x %}...{% endset %}
                        List<Node> body = block("endset");
                        at++;
                        return (ctx, out) -> {
                            StringBuilder sb = new StringBuilder();
                            for (Node n : body) n.render(ctx, sb);
                            ctx.scopes.getLast().put(target, sb.toString());
                        };
                    }
                    expect("=");
                    Expr value = expression();
                    expectEnd();
                    if (attr == null) return (ctx, out) -> ctx.scopes.getLast().put(target, value.eval(ctx));
                    return (ctx, out) -> {
                        if (!(ctx.get(target) instanceof Namespace ns)) throw new TemplateError(w + ": only a namespace() takes an attribute assignment ('" + target + "')");
                        ns.put(attr, value.eval(ctx));
                    };
                }
                case "break", "continue" -> {
                    expectEnd();
                    Flow f = word.equals("break") ? BREAK : CONTINUE;
                    return (ctx, out) -> {
                        throw f;
                    };
                }
                case "macro" -> {
                    String macro = name();
                    expect("(");
                    List<String> params = new ArrayList<>();
                    Map<String, Expr> defaults = new HashMap<>();
                    while (!accept(")")) {
                        if (!params.isEmpty()) expect(","); // a comma between arguments, none after the last (Jinja2's syntax)
                        String param = name();
                        if (params.contains(param)) throw new TemplateError(w + ": macro '" + macro + "' names its argument '" + param + "' twice");
                        params.add(param);
                        if (accept("=")) defaults.put(param, expression());
                        else if (!defaults.isEmpty()) throw new TemplateError(w + ": macro '" + macro + "': an argument without a default after one with");
                    }
                    expectEnd();
                    List<Node> body = block("endmacro");
                    at++;
                    ti = 1;
                    expectEnd();
                    // defined where it stands: it sees the scopes around its definition (as they change), not its caller's
                    return (ctx, out) -> ctx.scopes.getLast().put(macro, new Macro(macro, params, defaults, body, List.copyOf(ctx.scopes)));
                }
                case "generation" -> { // transformers' marker of the assistant's text: rendered as it is
                    expectEnd();
                    List<Node> body = block("endgeneration");
                    at++;
                    return (ctx, out) -> {
                        for (Node n : body) n.render(ctx, out);
                    };
                }
                default -> throw new TemplateError(where + ": the tag '" + word + "' is not supported here (chat templates: if, for, set, macro, break, continue, generation)");
            }
        }

        // expressions, with Jinja2's precedence
        Expr expression() {
            return ternary(true);
        }

        Expr ternary(boolean withCondition) {
            Expr e = or();
            if (withCondition && acceptWord("if")) {
                Expr cond = or();
                Expr other = acceptWord("else") ? ternary(true) : null;
                String w = where;
                return ctx -> truthy(cond.eval(ctx)) ? e.eval(ctx) : other != null ? other.eval(ctx) : new Undefined(w + ": the conditional expression had no else");
            }
            return e;
        }

        Expr or() {
            Expr e = and();
            while (acceptWord("or")) {
                Expr l = e, r = and();
                e = ctx -> {
                    Object v = l.eval(ctx);
                    return truthy(v) ? v : r.eval(ctx);
                };
            }
            return e;
        }

        Expr and() {
            Expr e = not();
            while (acceptWord("and")) {
                Expr l = e, r = not();
                e = ctx -> {
                    Object v = l.eval(ctx);
                    return !truthy(v) ? v : r.eval(ctx);
                };
            }
            return e;
        }

        Expr not() {
            if (acceptWord("not")) {
                Expr e = not();
                return ctx -> !truthy(e.eval(ctx));
            }
            return compare();
        }

        Expr compare() {
            Expr e = add();
            while (true) {
                String op;
                if (peek().type() == T.OP && List.of("==", "!=", "<", ">", "<=", ">=").contains(peek().text())) op = next().text();
                else if (acceptWord("in")) op = "in";
                else if (peek().type() == T.NAME && peek().text().equals("not") && peekAt(1).text().equals("in")) {
                    ti += 2;
                    op = "not in";
                } else return e;
                Expr l = e, r = add();
                String o = op, w = where;
                e = ctx -> compareOp(o, l.eval(ctx), r.eval(ctx), w);
            }
        }

        /** ~ binds tighter than + and - and looser than * (Jinja2's parse_math1 > parse_concat > parse_math2). */
        Expr concat() {
            Expr e = mul();
            while (accept("~")) {
                Expr l = e, r = mul();
                String w = where;
                e = ctx -> str(l.eval(ctx), w) + str(r.eval(ctx), w);
            }
            return e;
        }

        Expr add() {
            return arithmetic(this::concat, List.of("+", "-"));
        }

        Expr mul() {
            return arithmetic(this::pow, List.of("*", "/", "//", "%"));
        }

        /** ** is left-associative in Jinja2 (unlike Python). */
        Expr pow() {
            return arithmetic(this::unary, List.of("**"));
        }

        /** A left-associative level of arithmetic: operands from the next level, joined by these operators. */
        Expr arithmetic(java.util.function.Supplier<Expr> operand, List<String> ops) {
            Expr e = operand.get();
            while (peek().type() == T.OP && ops.contains(peek().text())) {
                String op = next().text();
                Expr l = e, r = operand.get();
                String w = where;
                e = ctx -> arith(op, l.eval(ctx), r.eval(ctx), w);
            }
            return e;
        }

        Expr unary() {
            Expr e;
            String w = where;
            if (accept("-")) {
                Expr inner = unaryNoFilter();
                e = ctx -> arith("-", 0L, inner.eval(ctx), w);
            } else if (accept("+")) {
                e = unaryNoFilter();
            } else {
                e = postfix(primary());
            }
            return filters(e);
        }

        Expr unaryNoFilter() {
            String w = where;
            if (accept("-")) {
                Expr inner = unaryNoFilter();
                return ctx -> arith("-", 0L, inner.eval(ctx), w);
            }
            if (accept("+")) return unaryNoFilter();
            return postfix(primary());
        }

        /** | filter(args) and is [not] test(args), left to right. */
        Expr filters(Expr e) {
            while (true) {
                String w = where;
                if (accept("|")) {
                    String f = name();
                    List<Expr> args = new ArrayList<>();
                    Map<String, Expr> kwargs = new LinkedHashMap<>();
                    if (accept("(")) arguments(args, kwargs);
                    Expr in = e;
                    e = ctx -> JinjaBuiltins.filter(f, in.eval(ctx), evalAll(args, ctx), evalAll(kwargs, ctx), w);
                } else if (acceptWord("is")) {
                    boolean negate = acceptWord("not");
                    String t = peek().type() == T.NAME ? name() : next().text(); // "is none", "is ==" ...
                    List<Expr> args = new ArrayList<>();
                    Map<String, Expr> kwargs = new LinkedHashMap<>();
                    if (accept("(")) arguments(args, kwargs);
                    else if (testArgument()) args.add(primary()); // is divisibleby 3, is in [1, 2]
                    Expr in = e;
                    e = ctx -> negate != JinjaBuiltins.test(t, in.eval(ctx), evalAll(args, ctx), w);
                } else {
                    return e;
                }
            }
        }

        /** Whether a test's one argument follows without parentheses, as Jinja2 decides it. */
        boolean testArgument() {
            Tok t = peek();
            return switch (t.type()) {
                case STRING, INT, FLOAT -> true;
                case NAME -> !List.of("else", "or", "and").contains(t.text());
                case OP -> t.text().equals("[") || t.text().equals("{");
                default -> false;
            };
        }

        Expr primary() {
            Tok t = next();
            String w = where;
            switch (t.type()) {
                case STRING -> {
                    StringBuilder sb = new StringBuilder((String) t.value());
                    while (peek().type() == T.STRING) sb.append((String) next().value()); // adjacent literals join, as in Python
                    String s = sb.toString();
                    return ctx -> s;
                }
                case INT, FLOAT -> {
                    Object v = t.value();
                    return ctx -> v;
                }
                case NAME -> {
                    switch (t.text()) {
                        case "true", "True" -> {
                            return ctx -> true;
                        }
                        case "false", "False" -> {
                            return ctx -> false;
                        }
                        case "none", "None" -> {
                            return ctx -> null;
                        }
                        default -> {
                            String n = t.text();
                            return ctx -> ctx.get(n);
                        }
                    }
                }
                case OP -> {
                    switch (t.text()) {
                        case "(" -> {
                            Expr e = expression();
                            if (accept(",")) { // a tuple: a list here
                                List<Expr> items = new ArrayList<>(List.of(e));
                                while (!accept(")")) {
                                    items.add(expression());
                                    if (!accept(",")) {
                                        expect(")");
                                        break;
                                    }
                                }
                                return ctx -> new Tuple(evalAll(items, ctx));
                            }
                            expect(")");
                            return e;
                        }
                        case "[" -> {
                            List<Expr> items = new ArrayList<>();
                            while (!accept("]")) {
                                items.add(expression());
                                if (!accept(",")) {
                                    expect("]");
                                    break;
                                }
                            }
                            return ctx -> evalAll(items, ctx);
                        }
                        case "{" -> {
                            List<Expr[]> entries = new ArrayList<>();
                            while (!accept("}")) {
                                Expr k = expression();
                                expect(":");
                                entries.add(new Expr[] {k, expression()});
                                if (!accept(",")) {
                                    expect("}");
                                    break;
                                }
                            }
                            return ctx -> {
                                Map<String, Object> m = new LinkedHashMap<>();
                                for (Expr[] kv : entries) m.put(str(kv[0].eval(ctx), w), kv[1].eval(ctx));
                                return m;
                            };
                        }
                        default -> throw new TemplateError(where + ": unexpected '" + t.text() + "'");
                    }
                }
                default -> throw new TemplateError(where + ": an expression was expected, found the " + t.text());
            }
        }

        Expr postfix(Expr e) {
            while (true) {
                String w = where;
                if (accept(".")) {
                    String attr = peek().type() == T.INT ? String.valueOf(next().value()) : name();
                    if (accept("(")) {
                        List<Expr> args = new ArrayList<>();
                        Map<String, Expr> kwargs = new LinkedHashMap<>();
                        arguments(args, kwargs);
                        Expr in = e;
                        e = ctx -> JinjaBuiltins.method(in.eval(ctx), attr, evalAll(args, ctx), evalAll(kwargs, ctx), w);
                    } else {
                        Expr in = e;
                        e = ctx -> item(in.eval(ctx), attr, w);
                    }
                } else if (accept("[")) {
                    Expr[] slice = new Expr[3];
                    boolean isSlice = false;
                    for (int part = 0; part < 3; part++) {
                        if (!(peek().type() == T.OP && (peek().text().equals(":") || peek().text().equals("]")))) slice[part] = expression();
                        if (part < 2 && accept(":")) isSlice = true;
                        else break;
                    }
                    expect("]");
                    Expr in = e;
                    if (isSlice) {
                        e = ctx -> JinjaBuiltins.slice(in.eval(ctx), slice[0] == null ? null : slice[0].eval(ctx), slice[1] == null ? null : slice[1].eval(ctx),
                                slice[2] == null ? null : slice[2].eval(ctx), w);
                    } else {
                        Expr key = slice[0];
                        e = ctx -> item(in.eval(ctx), key.eval(ctx), w);
                    }
                } else if (accept("(")) {
                    List<Expr> args = new ArrayList<>();
                    Map<String, Expr> kwargs = new LinkedHashMap<>();
                    arguments(args, kwargs);
                    Expr in = e;
                    e = ctx -> {
                        Object f = in.eval(ctx);
                        if (!(f instanceof Callable c)) throw new TemplateError(w + ": " + describe(f) + " is not callable");
                        return c.call(evalAll(args, ctx), evalAll(kwargs, ctx), w);
                    };
                } else {
                    return e;
                }
            }
        }

        /** After "(": arguments up to ")". */
        void arguments(List<Expr> args, Map<String, Expr> kwargs) {
            while (!accept(")")) {
                if (peek().type() == T.NAME && peekAt(1).type() == T.OP && peekAt(1).text().equals("=")) {
                    String k = name();
                    ti++;
                    kwargs.put(k, expression());
                } else {
                    args.add(expression());
                }
                if (!accept(",")) {
                    expect(")");
                    return;
                }
            }
        }

        Tok peek() {
            return toks.get(ti);
        }

        Tok peekAt(int k) {
            return toks.get(Math.min(ti + k, toks.size() - 1));
        }

        Tok next() {
            Tok t = toks.get(ti);
            if (t.type() != T.END) ti++;
            return t;
        }

        boolean accept(String op) {
            if (peek().type() == T.OP && peek().text().equals(op)) {
                ti++;
                return true;
            }
            return false;
        }

        boolean acceptWord(String word) {
            if (peek().type() == T.NAME && peek().text().equals(word)) {
                ti++;
                return true;
            }
            return false;
        }

        void expect(String op) {
            if (!accept(op)) throw new TemplateError(where + ": '" + op + "' was expected, found " + peek().text());
        }

        void expectWord(String word) {
            if (!acceptWord(word)) throw new TemplateError(where + ": '" + word + "' was expected, found " + peek().text());
        }

        void expectEnd() {
            if (peek().type() != T.END) throw new TemplateError(where + ": unexpected '" + peek().text() + "'");
        }

        String name() {
            Tok t = next();
            if (t.type() != T.NAME) throw new TemplateError(where + ": a name was expected, found " + t.text());
            return t.text();
        }
    }

    private static List<Object> evalAll(List<Expr> es, Ctx ctx) {
        List<Object> out = new ArrayList<>(es.size());
        for (Expr e : es) out.add(e.eval(ctx));
        return out;
    }

    private static Map<String, Object> evalAll(Map<String, Expr> es, Ctx ctx) {
        Map<String, Object> out = new LinkedHashMap<>();
        es.forEach((k, e) -> out.put(k, e.eval(ctx)));
        return out;
    }

    private static void forLoop(Ctx ctx, StringBuilder out, List<String> targets, Expr iterExpr, Expr filter, List<Node> body, List<Node> orElse, String w) {
        List<Object> items = JinjaBuiltins.iterate(iterExpr.eval(ctx), w);
        if (filter != null) { // the condition sees each item, and the loop counts only those it keeps
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Map<String, Object> scope = new HashMap<>();
                bind(scope, targets, item, w);
                ctx.scopes.add(scope);
                try {
                    if (truthy(filter.eval(ctx))) kept.add(item);
                } finally {
                    ctx.scopes.removeLast();
                }
            }
            items = kept;
        }
        if (items.isEmpty()) {
            for (Node n : orElse) n.render(ctx, out);
            return;
        }
        int len = items.size();
        for (int i = 0; i < len; i++) {
            Map<String, Object> loop = new HashMap<>();
            loop.put("index0", (long) i);
            loop.put("index", (long) i + 1);
            loop.put("revindex0", (long) (len - 1 - i));
            loop.put("revindex", (long) (len - i));
            loop.put("first", i == 0);
            loop.put("last", i == len - 1);
            loop.put("length", (long) len);
            loop.put("previtem", i > 0 ? items.get(i - 1) : new Undefined("there is no previous item"));
            loop.put("nextitem", i + 1 < len ? items.get(i + 1) : new Undefined("there is no next item"));
            Map<String, Object> scope = new HashMap<>(); // a new scope each iteration: a set inside does not outlive it
            scope.put("loop", loop);
            bind(scope, targets, items.get(i), w);
            ctx.scopes.add(scope);
            try {
                for (Node n : body) n.render(ctx, out);
            } catch (Flow f) {
                if (f == BREAK) break;
            } finally {
                ctx.scopes.removeLast();
            }
        }
    }

    private static void bind(Map<String, Object> scope, List<String> targets, Object item, String w) {
        if (targets.size() == 1) {
            scope.put(targets.getFirst(), item);
            return;
        }
        List<Object> parts = JinjaBuiltins.iterate(item, w);
        if (parts.size() != targets.size()) throw new TemplateError(w + ": cannot unpack " + parts.size() + " values into " + targets.size() + " names");
        for (int i = 0; i < parts.size(); i++) scope.put(targets.get(i), parts.get(i));
    }

    // ---------------------------------------------------------------- Python's semantics

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) return false;
        if (v instanceof Boolean b) return b;
        if (v instanceof Long l) return l != 0;
        if (v instanceof Double d) return d != 0;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof List<?> l) return !l.isEmpty();
        if (v instanceof Namespace) return true; // an object, not a dict
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    /** What {{ v }} prints: Python's str(). */
    static String str(Object v) {
        return str(v, "");
    }

    static String str(Object v, String w) {
        if (v instanceof String s) return s;
        if (v instanceof Undefined) return "";
        return repr(v, false);
    }

    /** Python's repr (str at the top level for strings when quoteStrings is false). */
    static String repr(Object v, boolean quoteStrings) {
        if (v == null) return "None";
        if (v instanceof Boolean b) return b ? "True" : "False";
        if (v instanceof Long l) return l.toString();
        if (v instanceof Double d) return pyFloat(d);
        if (v instanceof String s) return quoteStrings ? pyQuote(s) : s;
        if (v instanceof Undefined) return "";
        if (v instanceof List<?> l) {
            boolean tuple = v instanceof Tuple;
            StringBuilder sb = new StringBuilder(tuple ? "(" : "[");
            for (int i = 0; i < l.size(); i++) sb.append(i > 0 ? ", " : "").append(repr(l.get(i), true));
            if (tuple && l.size() == 1) sb.append(',');
            return sb.append(tuple ? ')' : ']').toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder(v instanceof Namespace ? "<Namespace {" : "{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(first ? "" : ", ").append(repr(e.getKey(), true)).append(": ").append(repr(e.getValue(), true));
                first = false;
            }
            return sb.append(v instanceof Namespace ? "}>" : "}").toString();
        }
        return String.valueOf(v);
    }

    static String pyFloat(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == Math.rint(d) && Math.abs(d) < 1e16) return String.format(java.util.Locale.ROOT, "%.1f", d);
        String s = Double.toString(d); // shortest repr that round-trips, as Python's
        if (s.contains("E")) {
            String[] p = s.split("E");
            int exp = Integer.parseInt(p[1]);
            String mant = p[0].endsWith(".0") ? p[0].substring(0, p[0].length() - 2) : p[0];
            if (exp >= -4 && exp < 16) return new java.math.BigDecimal(s).toPlainString();
            return mant + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
        }
        return s;
    }

    private static String pyQuote(String s) {
        char q = s.contains("'") && !s.contains("\"") ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(q);
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == q) sb.append('\\');
                    sb.append(c);
                }
            }
        }
        return sb.append(q).toString();
    }

    static String describe(Object v) {
        return v instanceof Undefined u ? u.what() : v == null ? "none" : repr(v, true);
    }

    static void undefinedCheck(Object v, String w) {
        if (v instanceof Undefined u) throw new TemplateError(w + ": " + u.what());
    }

    /** a[key] and a.key: a dict's entry or a list's element, else undefined; an attribute of undefined is an error. */
    static Object item(Object on, Object key, String w) {
        undefinedCheck(on, w);
        if (on instanceof Map<?, ?> m) {
            Object k = key instanceof String ? key : str(key, w);
            return m.containsKey(k) ? m.get(k) : new Undefined(describe(on) + " has no attribute or key " + repr(key, true));
        }
        if (on instanceof List<?> l && key instanceof Long i) {
            long at = i < 0 ? l.size() + i : i;
            return at >= 0 && at < l.size() ? l.get((int) at) : new Undefined("index " + i + " is out of range");
        }
        if (on instanceof String s && key instanceof Long i) {
            long at = i < 0 ? s.length() + i : i;
            return at >= 0 && at < s.length() ? String.valueOf(s.charAt((int) at)) : new Undefined("index " + i + " is out of range");
        }
        return new Undefined(describe(on) + " has no attribute or key " + repr(key, true));
    }

    static long integer(Object v, String w) {
        if (v instanceof Long l) return l;
        if (v instanceof Boolean b) return b ? 1 : 0;
        throw new TemplateError(w + ": an integer was expected, got " + describe(v));
    }

    private static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    private static double dbl(Object v) {
        return v instanceof Long l ? l : v instanceof Boolean b ? (b ? 1 : 0) : (Double) v;
    }

    static Object arith(String op, Object a, Object b, String w) {
        undefinedCheck(a, w);
        undefinedCheck(b, w);
        if (op.equals("+")) {
            if (a instanceof String x && b instanceof String y) return x + y;
            if (a instanceof List<?> x && b instanceof List<?> y) {
                List<Object> out = new ArrayList<>(x);
                out.addAll(y);
                return out;
            }
        }
        if (op.equals("*") && (a instanceof String || b instanceof String) && (a instanceof Long || b instanceof Long)) {
            String s = a instanceof String x ? x : (String) b;
            long k = a instanceof Long x ? x : (Long) b;
            if (k > 0 && (long) s.length() * k > MAX_ITEMS) throw new TemplateError(w + ": a string repeated to more than " + MAX_ITEMS + " characters");
            return k <= 0 ? "" : s.repeat((int) k);
        }
        if (!isNumber(a) || !isNumber(b)) throw new TemplateError(w + ": unsupported operand types for " + op + ": " + describe(a) + " and " + describe(b));
        boolean ints = !(a instanceof Double) && !(b instanceof Double);
        if (ints) {
            long x = (long) dbl(a), y = (long) dbl(b);
            switch (op) {
                case "+":
                    return x + y;
                case "-":
                    return x - y;
                case "*":
                    return x * y;
                case "//":
                    if (y == 0) throw new TemplateError(w + ": integer division by zero");
                    return Math.floorDiv(x, y);
                case "%":
                    if (y == 0) throw new TemplateError(w + ": integer modulo by zero");
                    return Math.floorMod(x, y);
                case "**":
                    if (y >= 0) {
                        long r = 1;
                        for (long i = 0; i < y; i++) r *= x;
                        return r;
                    }
                    return Math.pow(x, y);
                default:
                    break; // "/" is true division
            }
        }
        double x = dbl(a), y = dbl(b);
        return switch (op) {
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "/" -> {
                if (y == 0) throw new TemplateError(w + ": division by zero");
                yield x / y;
            }
            case "//" -> {
                if (y == 0) throw new TemplateError(w + ": division by zero");
                yield Math.floor(x / y);
            }
            case "%" -> {
                if (y == 0) throw new TemplateError(w + ": modulo by zero");
                yield x - Math.floor(x / y) * y;
            }
            default -> Math.pow(x, y);
        };
    }

    static boolean equal(Object a, Object b) {
        if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
        if (isNumber(a) && isNumber(b)) return dbl(a) == dbl(b);
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size() || (a instanceof Tuple) != (b instanceof Tuple)) return false; // (1, 2) != [1, 2] in Python
            for (int i = 0; i < x.size(); i++) if (!equal(x.get(i), y.get(i))) return false;
            return true;
        }
        return Objects.equals(a, b);
    }

    static Object compareOp(String op, Object a, Object b, String w) {
        switch (op) {
            case "==":
                return equal(a, b);
            case "!=":
                return !equal(a, b);
            case "in":
            case "not in": {
                boolean in;
                undefinedCheck(b, w);
                if (b instanceof String s) {
                    if (!(a instanceof String x)) throw new TemplateError(w + ": 'in <string>' needs a string on the left, got " + describe(a));
                    in = s.contains(x);
                } else if (b instanceof Map<?, ?> m) {
                    in = m.containsKey(a);
                } else if (b instanceof List<?> l) {
                    in = l.stream().anyMatch(x -> equal(x, a));
                } else {
                    throw new TemplateError(w + ": " + describe(b) + " is not a container");
                }
                return op.equals("in") == in;
            }
            default: {
                undefinedCheck(a, w);
                undefinedCheck(b, w);
                int c;
                if (isNumber(a) && isNumber(b)) c = Double.compare(dbl(a), dbl(b));
                else if (a instanceof String x && b instanceof String y) c = x.compareTo(y);
                else throw new TemplateError(w + ": cannot compare " + describe(a) + " and " + describe(b) + " with " + op);
                return switch (op) {
                    case "<" -> c < 0;
                    case ">" -> c > 0;
                    case "<=" -> c <= 0;
                    default -> c >= 0;
                };
            }
        }
    }
}
