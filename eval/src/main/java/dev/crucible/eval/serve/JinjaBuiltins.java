package dev.crucible.eval.serve;

import static dev.crucible.eval.serve.JinjaTemplate.describe;
import static dev.crucible.eval.serve.JinjaTemplate.equal;
import static dev.crucible.eval.serve.JinjaTemplate.item;
import static dev.crucible.eval.serve.JinjaTemplate.str;
import static dev.crucible.eval.serve.JinjaTemplate.truthy;

import dev.crucible.eval.serve.JinjaTemplate.Namespace;
import dev.crucible.eval.serve.JinjaTemplate.TemplateError;
import dev.crucible.eval.serve.JinjaTemplate.Undefined;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Jinja2's filters and tests, and the Python string and dict methods, that chat templates use,
 * with Python's results (split() on runs of whitespace, strip() of whitespace, floats printed as
 * Python prints them, tojson as transformers defines it: ensure_ascii off, keys in order).
 */
final class JinjaBuiltins {
    private JinjaBuiltins() {}

    static Object filter(String name, Object v, List<Object> a, Map<String, Object> kw, String w) {
        switch (name) {
            case "trim": {
                String chars = arg(a, kw, 0, "chars") instanceof String c ? c : null;
                return strip(str(v), chars, true, true);
            }
            case "length":
            case "count":
                return (long) size(v, w);
            case "upper":
                return str(v).toUpperCase(java.util.Locale.ROOT);
            case "lower":
                return str(v).toLowerCase(java.util.Locale.ROOT);
            case "capitalize":
                return capitalize(str(v));
            case "title":
                return title(str(v));
            case "string":
                return str(v);
            case "safe":
                return v;
            case "default":
            case "d": {
                Object dflt = a.size() > 0 ? a.get(0) : kw.getOrDefault("default_value", "");
                boolean bool = truthy(arg(a, kw, 1, "boolean"));
                return v instanceof Undefined || bool && !truthy(v) ? dflt : v;
            }
            case "tojson": { // transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
                Object indent = arg(a, kw, 1, "indent");
                Json j = new Json(indent == null ? -1 : (int) JinjaTemplate.integer(indent, w), truthy(arg(a, kw, 0, "ensure_ascii")),
                        truthy(arg(a, kw, 3, "sort_keys")), w);
                if (arg(a, kw, 2, "separators") instanceof List<?> sep && sep.size() == 2) {
                    j.itemSep = str(sep.get(0));
                    j.keySep = str(sep.get(1));
                }
                StringBuilder sb = new StringBuilder();
                j.write(v, 0, sb);
                return sb.toString();
            }
            case "join": {
                String sep = arg(a, kw, 0, "d") instanceof String s ? s : "";
                Object attr = arg(a, kw, 1, "attribute");
                StringBuilder sb = new StringBuilder();
                List<Object> items = iterate(v, w);
                for (int i = 0; i < items.size(); i++) sb.append(i > 0 ? sep : "").append(str(attr == null ? items.get(i) : item(items.get(i), attr, w)));
                return sb.toString();
            }
            case "first": {
                List<Object> items = iterate(v, w);
                return items.isEmpty() ? new Undefined("no first item of an empty sequence") : items.getFirst();
            }
            case "last": {
                List<Object> items = iterate(v, w);
                return items.isEmpty() ? new Undefined("no last item of an empty sequence") : items.getLast();
            }
            case "list":
                return new ArrayList<>(iterate(v, w));
            case "reverse": {
                if (v instanceof String s) return new StringBuilder(s).reverse().toString();
                List<Object> items = new ArrayList<>(iterate(v, w));
                Collections.reverse(items);
                return items;
            }
            case "replace": {
                need(a, 2, name, w);
                String s = str(v), from = str(a.get(0)), to = str(a.get(1));
                Object count = arg(a, kw, 2, "count");
                return replace(s, from, to, count == null ? -1 : JinjaTemplate.integer(count, w));
            }
            case "items": {
                if (v instanceof Undefined) return List.of();
                if (!(v instanceof Map<?, ?> m)) throw new TemplateError(w + ": items needs a mapping, got " + describe(v));
                List<Object> out = new ArrayList<>();
                m.forEach((k, x) -> out.add(new JinjaTemplate.Tuple(java.util.Arrays.asList(k, x))));
                return out;
            }
            case "selectattr":
            case "rejectattr": {
                boolean select = name.equals("selectattr");
                String attr = str(need(a, 1, name, w).get(0));
                String test = a.size() > 1 ? str(a.get(1)) : null;
                List<Object> out = new ArrayList<>();
                for (Object x : iterate(v, w)) {
                    Object field = attrPath(x, attr, w);
                    boolean ok = test == null ? truthy(field) : test(test, field, a.subList(2, a.size()), w);
                    if (ok == select) out.add(x);
                }
                return out;
            }
            case "select":
            case "reject": {
                boolean select = name.equals("select");
                String test = a.isEmpty() ? null : str(a.get(0));
                List<Object> out = new ArrayList<>();
                for (Object x : iterate(v, w)) {
                    boolean ok = test == null ? truthy(x) : test(test, x, a.subList(1, a.size()), w);
                    if (ok == select) out.add(x);
                }
                return out;
            }
            case "map": {
                List<Object> out = new ArrayList<>();
                Object attr = kw.get("attribute");
                for (Object x : iterate(v, w)) {
                    if (attr != null) {
                        Object field = attrPath(x, str(attr), w);
                        out.add(field instanceof Undefined && kw.containsKey("default") ? kw.get("default") : field);
                    } else {
                        out.add(filter(str(need(a, 1, name, w).getFirst()), x, a.subList(1, a.size()), Map.of(), w));
                    }
                }
                return out;
            }
            case "abs":
                return v instanceof Long l ? (Object) Math.abs(l) : (Object) Math.abs(number(v, w));
            case "int": {
                Object dflt = arg(a, kw, 0, "default");
                try {
                    if (v instanceof Long || v instanceof Boolean) return JinjaTemplate.integer(v, w);
                    if (v instanceof Double d) return (long) (double) d;
                    String s = str(v).strip().replace("_", "");
                    try {
                        return Long.parseLong(s);
                    } catch (NumberFormatException e) {
                        return (long) Double.parseDouble(s);
                    }
                } catch (RuntimeException e) {
                    return dflt == null ? 0L : dflt;
                }
            }
            case "float": {
                Object dflt = arg(a, kw, 0, "default");
                try {
                    if (v instanceof Long || v instanceof Double || v instanceof Boolean) return number(v, w);
                    return Double.parseDouble(str(v).strip());
                } catch (RuntimeException e) {
                    return dflt == null ? 0.0 : dflt;
                }
            }
            case "round": {
                Object p = arg(a, kw, 0, "precision");
                String method = arg(a, kw, 1, "method") instanceof String s ? s : "common";
                double x = number(v, w);
                int digits = p == null ? 0 : (int) JinjaTemplate.integer(p, w);
                if (Double.isNaN(x) || Double.isInfinite(x)) return x;
                java.math.RoundingMode mode = switch (method) { // common: Python's round(), ties to even on the exact binary value
                    case "ceil" -> java.math.RoundingMode.CEILING;
                    case "floor" -> java.math.RoundingMode.FLOOR;
                    default -> java.math.RoundingMode.HALF_EVEN;
                };
                return new java.math.BigDecimal(x).setScale(digits, mode).doubleValue();
            }
            case "sum": {
                Object total = arg(a, kw, 1, "start");
                if (total == null) total = 0L;
                Object attr = arg(a, kw, 0, "attribute");
                for (Object x : iterate(v, w)) total = JinjaTemplate.arith("+", total, attr == null ? x : attrPath(x, str(attr), w), w);
                return total;
            }
            case "indent": { // Jinja2's: every line after the first (and the first with first=True), blank lines only with blank=True
                Object width = arg(a, kw, 0, "width");
                String pad = width instanceof String s ? s : " ".repeat(width == null ? 4 : (int) JinjaTemplate.integer(width, w));
                boolean first = truthy(arg(a, kw, 1, "first")), blank = truthy(arg(a, kw, 2, "blank"));
                String s = str(v) + "\n"; // Jinja2 appends a newline, splits, and takes it off again
                List<String> lines = new ArrayList<>(s.lines().toList());
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < lines.size(); i++) {
                    if (i > 0) sb.append('\n');
                    String line = lines.get(i);
                    if (i == 0 ? first : blank || !line.isEmpty()) sb.append(pad);
                    sb.append(line);
                }
                return sb.toString();
            }
            default:
                throw new TemplateError(w + ": the filter '" + name + "' is not supported");
        }
    }

    /** The arguments, when there are at least n of them. */
    private static List<Object> need(List<Object> a, int n, String name, String w) {
        if (a.size() < n) throw new TemplateError(w + ": '" + name + "' needs " + n + " argument" + (n > 1 ? "s" : "") + ", got " + a.size());
        return a;
    }

    static boolean test(String name, Object v, List<Object> a, String w) {
        if (List.of("eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "gt", "greaterthan", ">", "le", "<=", "ge", ">=", "in", "sameas").contains(name)) {
            need(a, 1, name, w);
        }
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "string" -> v instanceof String;
            case "number" -> v instanceof Long || v instanceof Double || v instanceof Boolean; // Python's bool is a number
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "mapping" -> v instanceof Map;
            case "sequence" -> v instanceof List || v instanceof String || v instanceof Map;
            case "iterable" -> v instanceof List || v instanceof String || v instanceof Map || v instanceof Undefined;
            case "callable" -> v instanceof JinjaTemplate.Callable;
            case "odd" -> JinjaTemplate.integer(v, w) % 2 != 0;
            case "even" -> JinjaTemplate.integer(v, w) % 2 == 0;
            case "divisibleby" -> {
                long d = JinjaTemplate.integer(need(a, 1, name, w).getFirst(), w);
                if (d == 0) throw new TemplateError(w + ": divisibleby 0");
                yield JinjaTemplate.integer(v, w) % d == 0;
            }
            case "eq", "equalto", "==" -> equal(v, a.getFirst());
            case "ne", "!=" -> !equal(v, a.getFirst());
            case "lt", "lessthan", "<" -> (Boolean) JinjaTemplate.compareOp("<", v, a.getFirst(), w);
            case "gt", "greaterthan", ">" -> (Boolean) JinjaTemplate.compareOp(">", v, a.getFirst(), w);
            case "le", "<=" -> (Boolean) JinjaTemplate.compareOp("<=", v, a.getFirst(), w);
            case "ge", ">=" -> (Boolean) JinjaTemplate.compareOp(">=", v, a.getFirst(), w);
            case "in" -> (Boolean) JinjaTemplate.compareOp("in", v, a.getFirst(), w);
            case "lower" -> v instanceof String s && s.codePoints().anyMatch(JinjaBuiltins::cased) && s.equals(s.toLowerCase(java.util.Locale.ROOT)); // str.islower()
            case "upper" -> v instanceof String s && s.codePoints().anyMatch(JinjaBuiltins::cased) && s.equals(s.toUpperCase(java.util.Locale.ROOT));
            case "sameas" -> v == a.getFirst() || v != null && v.equals(a.getFirst()) && (v instanceof Boolean);
            default -> throw new TemplateError(w + ": the test '" + name + "' is not supported");
        };
    }

    /** A character with case (Python's "cased"): what islower() and isupper() need at least one of. */
    private static boolean cased(int c) {
        return Character.isLowerCase(c) || Character.isUpperCase(c) || Character.isTitleCase(c);
    }

    /** The methods of Python's str and dict that templates call; a list or a namespace has none here (the sandbox is immutable). */
    static Object method(Object on, String name, List<Object> a, Map<String, Object> kw, String w) {
        JinjaTemplate.undefinedCheck(on, w);
        if (on instanceof String s) {
            switch (name) {
                case "strip", "lstrip", "rstrip" -> {
                    String chars = a.isEmpty() || a.getFirst() == null ? null : str(a.getFirst());
                    return strip(s, chars, !name.equals("rstrip"), !name.equals("lstrip"));
                }
                case "split" -> {
                    Object sep = arg(a, kw, 0, "sep");
                    Object max = arg(a, kw, 1, "maxsplit");
                    return split(s, sep == null ? null : str(sep), max == null ? -1 : JinjaTemplate.integer(max, w), w);
                }
                case "splitlines" -> {
                    return new ArrayList<Object>(s.lines().toList());
                }
                case "startswith", "endswith" -> {
                    Object p = need(a, 1, name, w).getFirst();
                    List<Object> options = p instanceof List<?> l ? new ArrayList<>(l) : List.of(p);
                    for (Object o : options) if (name.equals("startswith") ? s.startsWith(str(o)) : s.endsWith(str(o))) return true;
                    return false;
                }
                case "upper" -> {
                    return s.toUpperCase(java.util.Locale.ROOT);
                }
                case "lower" -> {
                    return s.toLowerCase(java.util.Locale.ROOT);
                }
                case "title" -> {
                    return title(s);
                }
                case "capitalize" -> {
                    return capitalize(s);
                }
                case "replace" -> {
                    need(a, 2, name, w);
                    return replace(s, str(a.get(0)), str(a.get(1)), a.size() > 2 ? JinjaTemplate.integer(a.get(2), w) : -1);
                }
                case "find" -> {
                    return (long) s.indexOf(str(need(a, 1, name, w).getFirst()));
                }
                case "count" -> {
                    String sub = str(need(a, 1, name, w).getFirst());
                    if (sub.isEmpty()) return (long) s.length() + 1;
                    long c = 0;
                    for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) c++;
                    return c;
                }
                case "join" -> {
                    StringBuilder sb = new StringBuilder();
                    List<Object> items = iterate(need(a, 1, name, w).getFirst(), w);
                    for (int i = 0; i < items.size(); i++) {
                        if (!(items.get(i) instanceof String x)) throw new TemplateError(w + ": join needs strings, got " + describe(items.get(i)));
                        sb.append(i > 0 ? s : "").append(x);
                    }
                    return sb.toString();
                }
                case "isdigit" -> {
                    return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
                }
                case "isspace" -> {
                    return !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
                }
                default -> {
                }
            }
        } else if (on instanceof Map<?, ?> m && !(on instanceof Namespace)) {
            switch (name) {
                case "get" -> {
                    need(a, 1, name, w);
                    Object dflt = a.size() > 1 ? a.get(1) : null;
                    return m.containsKey(a.getFirst()) ? m.get(a.getFirst()) : dflt;
                }
                case "items" -> {
                    return filter("items", on, List.of(), Map.of(), w);
                }
                case "keys" -> {
                    return new ArrayList<Object>(m.keySet());
                }
                case "values" -> {
                    return new ArrayList<Object>(m.values());
                }
                default -> {
                }
            }
        }
        throw new TemplateError(w + ": " + describe(on) + " has no method '" + name + "' here");
    }

    /** What a for loop walks: a list's items, a dict's keys, a string's characters; undefined is empty, as in Jinja2. */
    static List<Object> iterate(Object v, String w) {
        if (v instanceof List<?> l) return new ArrayList<>(l);
        if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
        if (v instanceof String s) {
            List<Object> out = new ArrayList<>();
            s.codePoints().forEach(c -> out.add(new String(Character.toChars(c))));
            return out;
        }
        if (v instanceof Undefined) return List.of();
        throw new TemplateError(w + ": " + describe(v) + " is not iterable");
    }

    static Object slice(Object on, Object start, Object stop, Object step, String w) {
        JinjaTemplate.undefinedCheck(on, w);
        List<Object> items;
        if (on instanceof String s) items = iterate(s, w);
        else if (on instanceof List<?> l) items = new ArrayList<>(l);
        else throw new TemplateError(w + ": " + describe(on) + " cannot be sliced");
        int n = items.size();
        long st = step == null ? 1 : JinjaTemplate.integer(step, w);
        if (st == 0) throw new TemplateError(w + ": slice step cannot be zero");
        long lo, hi;
        if (st > 0) {
            lo = start == null ? 0 : clamp(JinjaTemplate.integer(start, w), n, 0, n);
            hi = stop == null ? n : clamp(JinjaTemplate.integer(stop, w), n, 0, n);
        } else {
            lo = start == null ? n - 1 : clamp(JinjaTemplate.integer(start, w), n, -1, n - 1);
            hi = stop == null ? -1 : clamp(JinjaTemplate.integer(stop, w), n, -1, n - 1);
        }
        List<Object> out = new ArrayList<>();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) out.add(items.get((int) i));
        if (on instanceof String) {
            StringBuilder sb = new StringBuilder();
            for (Object o : out) sb.append(o);
            return sb.toString();
        }
        return on instanceof JinjaTemplate.Tuple ? new JinjaTemplate.Tuple(out) : out; // a tuple's slice is a tuple
    }

    /** Python's index normalisation for a slice bound: negative from the end, then clamped. */
    private static long clamp(long i, int n, long min, long max) {
        if (i < 0) i += n;
        return Math.max(min, Math.min(max, i));
    }

    private static int size(Object v, String w) {
        if (v instanceof String s) return s.codePointCount(0, s.length());
        if (v instanceof List<?> l) return l.size();
        if (v instanceof Map<?, ?> m) return m.size();
        if (v instanceof Undefined) return 0;
        throw new TemplateError(w + ": " + describe(v) + " has no length");
    }

    private static Object arg(List<Object> a, Map<String, Object> kw, int i, String key) {
        return i < a.size() ? a.get(i) : kw.get(key);
    }

    private static double number(Object v, String w) {
        if (v instanceof Long l) return l;
        if (v instanceof Double d) return d;
        if (v instanceof Boolean b) return b ? 1 : 0;
        throw new TemplateError(w + ": a number was expected, got " + describe(v));
    }

    /** "a.b" follows attributes or keys; digits index a list. */
    private static Object attrPath(Object x, String path, String w) {
        Object v = x;
        for (String part : path.split("\\.")) v = item(v, part.chars().allMatch(Character::isDigit) && v instanceof List ? (Object) Long.parseLong(part) : part, w);
        return v;
    }

    /** Python's whitespace: what str.strip() and str.split() take away. */
    private static boolean pyspace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e || c == 0x1f
                || c == 0x85 || Character.isSpaceChar(c);
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0, e = s.length();
        if (left) while (b < e && (chars == null ? pyspace(s.charAt(b)) : chars.indexOf(s.charAt(b)) >= 0)) b++;
        if (right) while (e > b && (chars == null ? pyspace(s.charAt(e - 1)) : chars.indexOf(s.charAt(e - 1)) >= 0)) e--;
        return s.substring(b, e);
    }

    private static List<Object> split(String s, String sep, long max, String w) {
        List<Object> out = new ArrayList<>();
        if (sep == null) { // runs of whitespace, none at the ends
            int i = 0, n = s.length();
            while (true) {
                while (i < n && pyspace(s.charAt(i))) i++;
                if (i >= n) break;
                if (max >= 0 && out.size() == max) {
                    out.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !pyspace(s.charAt(j))) j++;
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new TemplateError(w + ": empty separator");
        int from = 0;
        for (int at; (max < 0 || out.size() < max) && (at = s.indexOf(sep, from)) >= 0; from = at + sep.length()) out.add(s.substring(from, at));
        out.add(s.substring(from));
        return out;
    }

    private static String replace(String s, String from, String to, long count) {
        if (count < 0) return s.replace(from, to);
        StringBuilder sb = new StringBuilder();
        int i = 0;
        for (long c = 0; c < count; c++) {
            int at = s.indexOf(from, i);
            if (at < 0) break;
            sb.append(s, i, at).append(to);
            i = at + from.length();
            if (from.isEmpty()) {
                if (i < s.length()) sb.append(s.charAt(i));
                i++;
            }
        }
        if (i <= s.length()) sb.append(s.substring(Math.min(i, s.length())));
        return sb.toString();
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + s.substring(1).toLowerCase(java.util.Locale.ROOT);
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean prevCased = false;
        for (char c : s.toCharArray()) {
            sb.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    /** json.dumps with its options: indent (-1: none), ensure_ascii, sort_keys, separators (Python's defaults: ", " or "," with an indent, and ": "). */
    private static final class Json {
        final int indent;
        final boolean ascii, sortKeys;
        final String w;
        String itemSep, keySep = ": ";

        Json(int indent, boolean ascii, boolean sortKeys, String w) {
            this.indent = indent;
            this.ascii = ascii;
            this.sortKeys = sortKeys;
            this.w = w;
            itemSep = indent >= 0 ? "," : ", ";
        }

        void write(Object v, int depth, StringBuilder sb) {
            if (v == null) {
                sb.append("null");
            } else if (v instanceof Boolean b) {
                sb.append(b);
            } else if (v instanceof Long l) {
                sb.append(l);
            } else if (v instanceof Double d) {
                sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : JinjaTemplate.pyFloat(d));
            } else if (v instanceof String s) {
                sb.append('"');
                for (char c : s.toCharArray()) {
                    switch (c) {
                        case '"' -> sb.append("\\\"");
                        case '\\' -> sb.append("\\\\");
                        case '\n' -> sb.append("\\n");
                        case '\r' -> sb.append("\\r");
                        case '\t' -> sb.append("\\t");
                        case '\b' -> sb.append("\\b");
                        case '\f' -> sb.append("\\f");
                        default -> {
                            if (c < 0x20 || ascii && c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
                            else sb.append(c);
                        }
                    }
                }
                sb.append('"');
            } else if (v instanceof List<?> || v instanceof Map<?, ?>) {
                boolean list = v instanceof List<?>;
                List<Object> items = new ArrayList<>(list ? (List<?>) v : ((Map<?, ?>) v).entrySet());
                if (!list && sortKeys) items.sort(java.util.Comparator.comparing(e -> str(((Map.Entry<?, ?>) e).getKey())));
                sb.append(list ? '[' : '{');
                if (items.isEmpty()) {
                    sb.append(list ? ']' : '}');
                    return;
                }
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) sb.append(itemSep);
                    if (indent >= 0) sb.append('\n').append(" ".repeat(indent * (depth + 1)));
                    if (list) {
                        write(items.get(i), depth + 1, sb);
                    } else {
                        Map.Entry<?, ?> e = (Map.Entry<?, ?>) items.get(i);
                        write(e.getKey() instanceof String ? e.getKey() : str(e.getKey()), depth + 1, sb);
                        sb.append(keySep);
                        write(e.getValue(), depth + 1, sb);
                    }
                }
                if (indent >= 0) sb.append('\n').append(" ".repeat(indent * depth));
                sb.append(list ? ']' : '}');
            } else {
                throw new TemplateError(w + ": " + describe(v) + " is not JSON serializable");
            }
        }
    }

    /** Python's strftime for the directives chat templates use (dates in a system prompt). */
    static String strftime(String fmt, java.time.LocalDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 == fmt.length()) {
                sb.append(c);
                continue;
            }
            char d = fmt.charAt(++i);
            sb.append(switch (d) {
                case 'd' -> String.format("%02d", t.getDayOfMonth());
                case 'm' -> String.format("%02d", t.getMonthValue());
                case 'Y' -> String.valueOf(t.getYear());
                case 'y' -> String.format("%02d", t.getYear() % 100);
                case 'H' -> String.format("%02d", t.getHour());
                case 'M' -> String.format("%02d", t.getMinute());
                case 'S' -> String.format("%02d", t.getSecond());
                case 'b' -> t.getMonth().getDisplayName(java.time.format.TextStyle.SHORT, java.util.Locale.ENGLISH);
                case 'B' -> t.getMonth().getDisplayName(java.time.format.TextStyle.FULL, java.util.Locale.ENGLISH);
                case 'a' -> t.getDayOfWeek().getDisplayName(java.time.format.TextStyle.SHORT, java.util.Locale.ENGLISH);
                case 'A' -> t.getDayOfWeek().getDisplayName(java.time.format.TextStyle.FULL, java.util.Locale.ENGLISH);
                case 'j' -> String.format("%03d", t.getDayOfYear());
                case '%' -> "%";
                default -> "%" + d;
            });
        }
        return sb.toString();
    }
}
