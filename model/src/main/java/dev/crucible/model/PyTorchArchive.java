package dev.crucible.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A state dict written by torch.save (pytorch_model.bin, as transformers saved models before safetensors, and as many
 * checkpoint series still are): a zip archive of a pickle and one record per storage. The pickle is read by a small
 * machine that knows the opcodes of pickle protocols 2 to 5 and calls nothing but what torch.load(weights_only=True)
 * allows for a state dict (an ordered dict, _rebuild_tensor_v2, _rebuild_parameter, the typed storages); any other
 * global, such as a function that would run code on load in Python, is refused by name. Tensors are read from their
 * storages with their offsets and strides (tied weights share one storage; a saved view need not be row-major).
 */
public final class PyTorchArchive implements Safetensors.TensorFile {
    private final Path path;
    private final ZipFile zip;
    private final String prefix; // the archive's folder: its records are prefix + "data.pkl", prefix + "data/<key>"
    private final Map<String, Tensor> tensors;
    private final Map<String, Safetensors.Entry> entries;

    /** A storage the pickle names: its record, element type and element count. */
    record Storage(String key, Safetensors.DType dtype, long elements) {}

    /** A tensor: a view of a storage from offset (in elements) with shape and strides. */
    record Tensor(Storage storage, long offset, long[] shape, long[] stride) {
        long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        boolean rowMajor() {
            long expect = 1;
            for (int k = shape.length - 1; k >= 0; k--) {
                if (shape[k] != 1 && stride[k] != expect) return false;
                expect *= shape[k];
            }
            return true;
        }
    }

    private PyTorchArchive(Path path, ZipFile zip, String prefix, Map<String, Tensor> tensors) {
        this.path = path;
        this.zip = zip;
        this.prefix = prefix;
        this.tensors = tensors;
        Map<String, Safetensors.Entry> e = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            long bytes = (long) t.storage().dtype().bits / 8;
            e.put(name, new Safetensors.Entry(name, t.storage().dtype(), t.shape().clone(), t.offset() * bytes, (t.offset() + t.elements()) * bytes));
        });
        this.entries = Collections.unmodifiableMap(e);
    }

    public static PyTorchArchive open(Path path) throws IOException {
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(path)) {
            if (in.readNBytes(magic, 0, 4) < 4) throw new IOException(path + ": not a torch.save file (" + Files.size(path) + " bytes)");
        }
        if (magic[0] != 'P' || magic[1] != 'K') {
            throw new IOException(path + ": " + ((magic[0] & 0xFF) == 0x80 ? "torch.save's format before PyTorch 1.6 (not a zip archive) is not supported; "
                    + "save it again with a newer torch, or as safetensors" : "not a torch.save zip archive"));
        }
        ZipFile zip = new ZipFile(path.toFile());
        try {
            String pkl = null;
            for (var it = zip.entries(); it.hasMoreElements(); ) {
                String name = it.nextElement().getName();
                boolean top = name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length(); // <folder>/data.pkl
                if (top && pkl != null) throw new IOException(path + ": two pickles, " + pkl + " and " + name + ": not one torch.save archive");
                if (top) pkl = name;
            }
            if (pkl == null) throw new IOException(path + ": no <folder>/data.pkl record: not a torch.save archive");
            String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            if (order != null) {
                String o = new String(zip.getInputStream(order).readAllBytes(), StandardCharsets.US_ASCII).trim();
                if (!o.equals("little")) throw new IOException(path + ": byteorder '" + o + "' is not supported (little-endian is)");
            }
            Object root;
            try (InputStream in = zip.getInputStream(zip.getEntry(pkl))) {
                root = new Unpickler(path + ": " + pkl, in.readAllBytes()).load();
            }
            if (!(root instanceof Map<?, ?> map)) throw new IOException(path + ": the pickle holds " + describe(root) + ", not a state dict (names to tensors)");
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (var e : map.entrySet()) {
                if (!(e.getKey() instanceof String name)) throw new IOException(path + ": a state dict key is " + describe(e.getKey()) + ", not a name");
                if (!(e.getValue() instanceof Tensor t)) throw new IOException(path + ": '" + name + "' is " + describe(e.getValue()) + ", not a tensor (not a state dict)");
                check(path, zip, prefix, name, t);
                tensors.put(name, t);
            }
            return new PyTorchArchive(path, zip, prefix, tensors);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    /** The storage's record holds its elements, and the view stays inside them. */
    private static void check(Path path, ZipFile zip, String prefix, String name, Tensor t) throws IOException {
        ZipEntry record = zip.getEntry(prefix + "data/" + t.storage().key());
        if (record == null) throw new IOException(path + ": tensor '" + name + "': storage record data/" + t.storage().key() + " is missing");
        long bytes = t.storage().elements() * t.storage().dtype().bits / 8;
        if (record.getSize() >= 0 && record.getSize() < bytes) {
            throw new IOException(path + ": tensor '" + name + "': storage data/" + t.storage().key() + " has " + record.getSize() + " bytes, not the " + bytes + " its "
                    + t.storage().elements() + " elements need");
        }
        if (t.shape().length != t.stride().length) throw new IOException(path + ": tensor '" + name + "' has " + t.shape().length + " sizes but " + t.stride().length + " strides");
        long last = t.offset();
        for (int k = 0; k < t.shape().length; k++) {
            if (t.shape()[k] < 0 || t.stride()[k] < 0) throw new IOException(path + ": tensor '" + name + "' has a negative size or stride");
            if (t.shape()[k] == 0) last = -1;
            if (last >= 0) last += (t.shape()[k] - 1) * t.stride()[k];
        }
        if (t.offset() < 0 || last >= t.storage().elements()) {
            throw new IOException(path + ": tensor '" + name + "' reaches element " + last + " of a storage of " + t.storage().elements());
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public Map<String, Safetensors.Entry> entries() {
        return entries;
    }

    @Override
    public String where() {
        return path.toString();
    }

    /** The tensor converted to float32 (F32, F16 and BF16, as from safetensors). */
    @Override
    public float[] floats(String name) throws IOException {
        Tensor t = tensors.get(name);
        if (t == null) throw new IOException(path + ": tensor '" + name + "' is missing");
        Safetensors.DType dtype = t.storage().dtype();
        if (!dtype.readsAsFloat()) throw new IOException(path + ": tensor '" + name + "' is " + dtype + "; only F32, F16 and BF16 tensors are read as float32");
        long n = t.elements();
        if (n > Integer.MAX_VALUE - 16) throw new IOException(path + ": tensor '" + name + "' has " + n + " elements, too many for one array");
        long storageBytes = t.storage().elements() * dtype.bits / 8;
        if (storageBytes > Integer.MAX_VALUE - 16) throw new IOException(path + ": tensor '" + name + "': its storage of " + storageBytes + " bytes is too large to read");
        byte[] raw;
        try (InputStream in = zip.getInputStream(zip.getEntry(prefix + "data/" + t.storage().key()))) {
            raw = in.readNBytes((int) storageBytes);
        }
        if (raw.length < storageBytes) throw new IOException(path + ": storage data/" + t.storage().key() + " ends after " + raw.length + " of " + storageBytes + " bytes");
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) n];
        int rank = t.shape().length;
        long[] index = new long[rank];
        long at = t.offset();
        boolean rowMajor = t.rowMajor();
        for (int i = 0; i < out.length; i++) {
            long e = rowMajor ? t.offset() + i : at;
            out[i] = switch (dtype) {
                case F32 -> b.getFloat((int) (4 * e));
                case F16 -> Float.float16ToFloat(b.getShort((int) (2 * e)));
                case BF16 -> Float.intBitsToFloat((b.getShort((int) (2 * e)) & 0xFFFF) << 16);
                default -> throw new IllegalStateException(dtype + " passed readsAsFloat");
            };
            if (!rowMajor) { // the next index, last dimension fastest, and where it lies
                for (int k = rank - 1; k >= 0; k--) {
                    at += t.stride()[k];
                    if (++index[k] < t.shape()[k]) break;
                    at -= index[k] * t.stride()[k];
                    index[k] = 0;
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            zip.close();
        } catch (IOException e) { // the archive was only read
        }
    }

    static String describe(Object o) {
        return switch (o) {
            case null -> "None";
            case Map<?, ?> m -> "a dict";
            case List<?> l -> "a sequence of " + l.size();
            case Tensor t -> "a tensor";
            case String s -> "the string '" + s + "'";
            default -> "a " + o.getClass().getSimpleName();
        };
    }

    /** A global the pickle names (module and name), as a value: the allowed ones are only ever called or used as storage types. */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** Python's tuple: a list that SETITEM-like opcodes must not change. */
    record Tuple(List<Object> items) {}

    /**
     * The pickle machine: a stack, marks and a memo, for the opcodes of protocols 2 to 5 that hold data (no code), and REDUCE
     * and BUILD on the allowed globals only.
     */
    static final class Unpickler {
        private static final Map<String, Safetensors.DType> STORAGES = Map.ofEntries(
                Map.entry("FloatStorage", Safetensors.DType.F32), Map.entry("HalfStorage", Safetensors.DType.F16),
                Map.entry("BFloat16Storage", Safetensors.DType.BF16), Map.entry("DoubleStorage", Safetensors.DType.F64),
                Map.entry("LongStorage", Safetensors.DType.I64), Map.entry("IntStorage", Safetensors.DType.I32),
                Map.entry("ShortStorage", Safetensors.DType.I16), Map.entry("CharStorage", Safetensors.DType.I8),
                Map.entry("ByteStorage", Safetensors.DType.U8), Map.entry("BoolStorage", Safetensors.DType.BOOL));
        private static final Object MARK = new Object();

        private final String where;
        private final ByteBuffer in;
        private final List<Object> stack = new ArrayList<>();
        private final List<Integer> marks = new ArrayList<>();
        private final Map<Long, Object> memo = new java.util.HashMap<>();

        Unpickler(String where, byte[] data) {
            this.where = where;
            this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        }

        private IOException error(int at, String what) {
            return new IOException(where + ", byte " + at + ": " + what);
        }

        Object load() throws IOException {
            try {
                return run();
            } catch (java.nio.BufferUnderflowException e) {
                throw error(in.position(), "the pickle ends inside an opcode");
            } catch (IndexOutOfBoundsException | ClassCastException e) {
                throw error(in.position(), "malformed pickle (" + e.getMessage() + ")");
            }
        }

        private Object run() throws IOException {
            while (true) {
                int at = in.position();
                int op = in.get() & 0xFF;
                switch (op) {
                    case 0x80 -> { // PROTO
                        int v = in.get() & 0xFF;
                        if (v > 5) throw error(at, "pickle protocol " + v + " is newer than 5");
                    }
                    case 0x95 -> in.getLong(); // FRAME: a length only
                    case '.' -> { // STOP
                        if (stack.size() != 1) throw error(at, "the pickle stops with " + stack.size() + " values on its stack");
                        return stack.getFirst();
                    }
                    case '(' -> marks.add(stack.size());
                    case '0' -> pop(at);
                    case '1' -> popMark(at);
                    case '2' -> push(peek(at));
                    case 'N' -> push(null);
                    case 0x88 -> push(Boolean.TRUE);
                    case 0x89 -> push(Boolean.FALSE);
                    case 'J' -> push((long) in.getInt());
                    case 'K' -> push((long) (in.get() & 0xFF));
                    case 'M' -> push((long) (in.getShort() & 0xFFFF));
                    case 0x8a -> push(longN(in.get() & 0xFF, at)); // LONG1
                    case 0x8b -> push(longN(in.getInt(), at)); // LONG4
                    case 'G' -> { // BINFLOAT, big-endian as no other opcode is
                        push(in.order(ByteOrder.BIG_ENDIAN).getDouble());
                        in.order(ByteOrder.LITTLE_ENDIAN);
                    }
                    case 'X' -> push(text(in.getInt(), at)); // BINUNICODE
                    case 0x8c -> push(text(in.get() & 0xFF, at)); // SHORT_BINUNICODE
                    case 0x8d -> push(text(in.getLong(), at)); // BINUNICODE8
                    case 'T' -> push(latin1(in.getInt(), at)); // BINSTRING
                    case 'U' -> push(latin1(in.get() & 0xFF, at)); // SHORT_BINSTRING
                    case 'B' -> push(bytes(in.getInt(), at)); // BINBYTES
                    case 'C' -> push(bytes(in.get() & 0xFF, at)); // SHORT_BINBYTES
                    case 0x8e -> push(bytes(in.getLong(), at)); // BINBYTES8
                    case ')' -> push(new Tuple(List.of()));
                    case 't' -> push(new Tuple(popMark(at)));
                    case 0x85 -> push(tuple(at, 1));
                    case 0x86 -> push(tuple(at, 2));
                    case 0x87 -> push(tuple(at, 3));
                    case ']' -> push(new ArrayList<>());
                    case 'l' -> push(new ArrayList<>(popMark(at)));
                    case 'a' -> {
                        Object v = pop(at);
                        list(peek(at), at).add(v);
                    }
                    case 'e' -> {
                        List<Object> items = popMark(at);
                        list(peek(at), at).addAll(items);
                    }
                    case '}' -> push(new LinkedHashMap<>());
                    case 'd' -> {
                        List<Object> items = popMark(at);
                        Map<Object, Object> m = new LinkedHashMap<>();
                        putAll(m, items, at);
                        push(m);
                    }
                    case 's' -> {
                        Object v = pop(at), k = pop(at);
                        dict(peek(at), at).put(key(k, at), v);
                    }
                    case 'u' -> {
                        List<Object> items = popMark(at);
                        putAll(dict(peek(at), at), items, at);
                    }
                    case 'q' -> memo.put((long) (in.get() & 0xFF), peek(at)); // BINPUT
                    case 'r' -> memo.put(in.getInt() & 0xFFFFFFFFL, peek(at)); // LONG_BINPUT
                    case 0x94 -> memo.put((long) memo.size(), peek(at)); // MEMOIZE
                    case 'h' -> push(memo(in.get() & 0xFF, at)); // BINGET
                    case 'j' -> push(memo(in.getInt() & 0xFFFFFFFFL, at)); // LONG_BINGET
                    case 'c' -> push(global(line(at), line(at), at)); // GLOBAL: "module\nname\n"
                    case 0x93 -> { // STACK_GLOBAL
                        Object name = pop(at), module = pop(at);
                        if (!(module instanceof String m) || !(name instanceof String n)) throw error(at, "STACK_GLOBAL of " + describe(module) + " and " + describe(name));
                        push(global(m, n, at));
                    }
                    case 'Q' -> push(persistent(pop(at), at)); // BINPERSID
                    case 'R' -> { // REDUCE: func(*args)
                        Object args = pop(at), func = pop(at);
                        if (!(args instanceof Tuple t)) throw error(at, "REDUCE with " + describe(args) + " for arguments");
                        push(call(func, t.items(), at));
                    }
                    case 'b' -> { // BUILD: obj.__setstate__(state); a state dict's attributes (_metadata) and a parameter's are dropped
                        Object state = pop(at), obj = peek(at);
                        if (!(obj instanceof Map<?, ?>) && !(obj instanceof Tensor)) throw error(at, "BUILD on " + describe(obj) + " (only a dict's or a tensor's attributes are set)");
                        if (state != null && !(state instanceof Map<?, ?>) && !(state instanceof Tuple)) throw error(at, "BUILD with " + describe(state));
                    }
                    default -> throw error(at, String.format("pickle opcode 0x%02x ('%c') is not one a state dict needs", op, op >= 32 && op < 127 ? op : '?'));
                }
            }
        }

        private void push(Object o) {
            stack.add(o);
        }

        private Object pop(int at) throws IOException {
            if (stack.isEmpty() || !marks.isEmpty() && marks.getLast() == stack.size()) throw error(at, "the pickle's stack is empty");
            return stack.removeLast();
        }

        private Object peek(int at) throws IOException {
            if (stack.isEmpty()) throw error(at, "the pickle's stack is empty");
            return stack.getLast();
        }

        private List<Object> popMark(int at) throws IOException {
            if (marks.isEmpty()) throw error(at, "no MARK before this opcode");
            int from = marks.removeLast();
            List<Object> items = new ArrayList<>(stack.subList(from, stack.size()));
            stack.subList(from, stack.size()).clear();
            return items;
        }

        private Tuple tuple(int at, int n) throws IOException {
            Object[] items = new Object[n];
            for (int i = n - 1; i >= 0; i--) items[i] = pop(at);
            return new Tuple(Collections.unmodifiableList(Arrays.asList(items)));
        }

        private Object memo(long key, int at) throws IOException {
            if (!memo.containsKey(key)) throw error(at, "memo " + key + " was never stored");
            return memo.get(key);
        }

        @SuppressWarnings("unchecked")
        private List<Object> list(Object o, int at) throws IOException {
            if (o instanceof ArrayList<?> l) return (List<Object>) l;
            throw error(at, "APPEND to " + describe(o));
        }

        @SuppressWarnings("unchecked")
        private Map<Object, Object> dict(Object o, int at) throws IOException {
            if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
            throw error(at, "SETITEM on " + describe(o));
        }

        private void putAll(Map<Object, Object> m, List<Object> items, int at) throws IOException {
            if (items.size() % 2 != 0) throw error(at, "an odd number of keys and values");
            for (int i = 0; i < items.size(); i += 2) m.put(key(items.get(i), at), items.get(i + 1));
        }

        /** Keys that hash as Python's do here: strings and numbers (a state dict has names). */
        private Object key(Object k, int at) throws IOException {
            if (k == null || k instanceof String || k instanceof Long || k instanceof Boolean) return k;
            throw error(at, "a dict key that is " + describe(k));
        }

        private Object longN(int n, int at) throws IOException {
            if (n < 0 || n > 8) throw error(at, "an integer of " + n + " bytes");
            byte[] le = new byte[n];
            in.get(le);
            long v = 0;
            for (int i = n - 1; i >= 0; i--) v = v << 8 | (le[i] & 0xFF);
            if (n > 0 && n < 8 && (le[n - 1] & 0x80) != 0) v -= 1L << (8 * n); // two's complement of n bytes
            return v;
        }

        private byte[] bytes(long n, int at) throws IOException {
            if (n < 0 || n > in.remaining()) throw error(at, "a string of " + n + " bytes where " + in.remaining() + " are left");
            byte[] b = new byte[(int) n];
            in.get(b);
            return b;
        }

        private String text(long n, int at) throws IOException {
            return new String(bytes(n, at), StandardCharsets.UTF_8);
        }

        private String latin1(long n, int at) throws IOException {
            return new String(bytes(n, at), StandardCharsets.ISO_8859_1);
        }

        private String line(int at) throws IOException {
            StringBuilder b = new StringBuilder();
            while (true) {
                if (!in.hasRemaining()) throw error(at, "GLOBAL without its newline");
                char c = (char) (in.get() & 0xFF);
                if (c == '\n') return b.toString();
                b.append(c);
            }
        }

        /** Only the globals a state dict needs, as torch's weights-only unpickler allows them; the rest refused by name. */
        private Global global(String module, String name, int at) throws IOException {
            boolean allowed = switch (module) {
                case "collections" -> name.equals("OrderedDict");
                case "torch._utils" -> name.equals("_rebuild_tensor_v2") || name.equals("_rebuild_parameter") || name.equals("_rebuild_parameter_with_state");
                case "torch" -> STORAGES.containsKey(name);
                default -> false;
            };
            if (!allowed) {
                throw error(at, "the pickle calls " + module + "." + name + ", which a state dict does not need (torch.load with weights_only refuses it too); "
                        + "it is not run");
            }
            return new Global(module, name);
        }

        /** BINPERSID's ('storage', storage type, key, location, element count): a storage of the archive. */
        private Storage persistent(Object pid, int at) throws IOException {
            if (!(pid instanceof Tuple t) || t.items().size() != 5 || !"storage".equals(t.items().get(0))) throw error(at, "persistent id " + describe(pid) + " is not a storage");
            List<Object> p = t.items();
            if (!(p.get(1) instanceof Global g) || !g.module().equals("torch") || !STORAGES.containsKey(g.name())) throw error(at, "storage type " + p.get(1));
            if (!(p.get(2) instanceof String key) || !key.matches("[0-9A-Za-z_]+")) throw error(at, "storage key " + describe(p.get(2)));
            if (!(p.get(4) instanceof Long n) || n < 0) throw error(at, "storage size " + describe(p.get(4)));
            return new Storage(key, STORAGES.get(g.name()), n);
        }

        private Object call(Object func, List<Object> args, int at) throws IOException {
            if (!(func instanceof Global g)) throw error(at, "REDUCE calls " + describe(func));
            switch (g.toString()) {
                case "collections.OrderedDict" -> {
                    if (!args.isEmpty()) throw error(at, "OrderedDict called with arguments");
                    return new LinkedHashMap<>();
                }
                case "torch._utils._rebuild_tensor_v2" -> { // (storage, offset, size, stride, requires_grad, backward_hooks[, metadata])
                    if (args.size() < 4 || !(args.get(0) instanceof Storage s) || !(args.get(1) instanceof Long offset)) throw error(at, "_rebuild_tensor_v2" + args);
                    return new Tensor(s, offset, longs(args.get(2), at), longs(args.get(3), at));
                }
                case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> { // (data, requires_grad, backward_hooks[, state])
                    if (args.isEmpty() || !(args.getFirst() instanceof Tensor t)) throw error(at, g.name() + " of " + (args.isEmpty() ? "nothing" : describe(args.getFirst())));
                    return t;
                }
                default -> throw error(at, g + " is a storage type, not called");
            }
        }

        private long[] longs(Object o, int at) throws IOException {
            if (!(o instanceof Tuple t)) throw error(at, "a size or stride that is " + describe(o));
            long[] out = new long[t.items().size()];
            for (int i = 0; i < out.length; i++) {
                if (!(t.items().get(i) instanceof Long v)) throw error(at, "a size or stride of " + describe(t.items().get(i)));
                out[i] = v;
            }
            return out;
        }
    }
}
