package dev.crucible.model;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
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
 * A state dict written by torch.save since PyTorch 1.6 (pytorch_model.bin, as transformers saved models before safetensors,
 * and as many checkpoint series still are): a zip archive of a pickle and one record per storage. The pickle is read by a
 * small machine that knows the opcodes torch.save's pickles use (protocols 2 to 5) and builds nothing but what a state dict
 * holds, a subset of what torch.load(weights_only=True) allows: an ordered dict, tensors rebuilt from storages
 * (_rebuild_tensor_v2 and v3, _rebuild_parameter, _rebuild_from_type_v2 of a plain tensor or parameter), the typed storages
 * and dtypes. Any other global, such as a function that would run code on load in Python, is refused by name; the pickle
 * and what it builds are bounded in size. Tensors are read from their storages with their offsets and strides (tied weights
 * share one storage; a saved view need not be row-major), reading only the bytes a tensor spans. The format before 1.6
 * (not a zip archive) is refused.
 *
 * <p>An entry's begin and end are the bytes its tensor spans in its storage's record, not offsets in one data section.
 */
public final class PyTorchArchive implements Safetensors.TensorFile {
    /** Pickles above this are refused before they are read: a state dict's takes about 100 bytes per tensor. */
    static final long MAX_PICKLE_BYTES = 64L << 20;
    /** Containers the pickle may build (dicts, lists, tuples, tensors): a state dict builds about eight per tensor. */
    static final int MAX_OBJECTS = 1 << 20;
    /** Row-major tensors are read in chunks of this many bytes. */
    private static final int CHUNK_BYTES = 16 << 20;

    private final Path path;
    private final ZipFile zip;
    private final String prefix; // the archive's folder: its records are prefix + "data.pkl", prefix + "data/<key>"
    private final Map<String, Tensor> tensors;
    private final Map<String, Safetensors.Entry> entries;

    /** A storage the pickle names: its record and its size in bytes. */
    record Storage(String key, long bytes) {}

    /** A tensor: a view of a storage, in elements of its dtype, from offset with shape and strides; span: the bytes it covers from there. */
    record Tensor(Storage storage, Safetensors.DType dtype, long offset, long[] shape, long[] stride, long elements, long span) {
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
            long begin = t.offset() * t.dtype().bytes();
            e.put(name, new Safetensors.Entry(name, t.dtype(), t.shape().clone(), begin, begin + t.span()));
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
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (IOException e) {
            throw new IOException(path + ": not a readable zip archive (" + e.getMessage() + "; a download cut short?)", e);
        }
        boolean opened = false;
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
                String o;
                try (InputStream in = zip.getInputStream(order)) {
                    o = new String(in.readNBytes(16), StandardCharsets.US_ASCII).trim();
                }
                if (!o.equals("little")) throw new IOException(path + ": byteorder '" + o + "' is not supported (little-endian is)");
            }
            ZipEntry pklEntry = zip.getEntry(pkl);
            if (pklEntry.getSize() > MAX_PICKLE_BYTES) throw new IOException(path + ": " + pkl + " has " + pklEntry.getSize() + " bytes, more than the " + MAX_PICKLE_BYTES + " read");
            byte[] pickle;
            try (InputStream in = zip.getInputStream(pklEntry)) {
                pickle = in.readNBytes((int) MAX_PICKLE_BYTES + 1);
            }
            if (pickle.length > MAX_PICKLE_BYTES) throw new IOException(path + ": " + pkl + " holds more than the " + MAX_PICKLE_BYTES + " bytes read");
            Object root = new Unpickler(path + ": " + pkl, pickle).load();
            if (!(root instanceof Map<?, ?> map)) throw new IOException(path + ": the pickle holds " + describe(root) + ", not a state dict (names to tensors)");
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (var e : map.entrySet()) {
                if (!(e.getKey() instanceof String name)) throw new IOException(path + ": a state dict key is " + describe(e.getKey()) + ", not a name");
                if (!(e.getValue() instanceof Tensor t)) throw new IOException(path + ": '" + name + "' is " + describe(e.getValue()) + ", not a tensor (not a state dict)");
                ZipEntry record = zip.getEntry(prefix + record(t.storage()));
                if (record == null) throw new IOException(path + ": tensor '" + name + "': storage record " + record(t.storage()) + " is missing");
                if (record.getSize() >= 0 && record.getSize() < t.storage().bytes()) {
                    throw new IOException(path + ": tensor '" + name + "': storage " + record(t.storage()) + " has " + record.getSize() + " bytes, not the "
                            + t.storage().bytes() + " the pickle gives it");
                }
                tensors.put(name, t);
            }
            PyTorchArchive archive = new PyTorchArchive(path, zip, prefix, tensors);
            opened = true;
            return archive;
        } finally {
            if (!opened) zip.close();
        }
    }

    private static String record(Storage s) {
        return "data/" + s.key();
    }

    @Override
    public Map<String, Safetensors.Entry> entries() {
        return entries;
    }

    @Override
    public String where() {
        return path.toString();
    }

    /** The tensor converted to float32 (F32, F16 and BF16, as from safetensors), reading only the bytes it spans. */
    @Override
    public float[] floats(String name) throws IOException {
        Tensor t = tensors.get(name);
        if (t == null) throw new IOException(path + ": tensor '" + name + "' is missing");
        Safetensors.DType dtype = t.dtype();
        if (!dtype.readsAsFloat()) throw new IOException(path + ": tensor '" + name + "' is " + dtype + "; only F32, F16 and BF16 tensors are read as float32");
        if (t.elements() > Integer.MAX_VALUE - 16) throw new IOException(path + ": tensor '" + name + "' has " + t.elements() + " elements, too many for one array");
        float[] out = new float[(int) t.elements()];
        int size = dtype.bytes();
        try (InputStream in = zip.getInputStream(zip.getEntry(prefix + record(t.storage())))) {
            in.skipNBytes(t.offset() * size); // records are stored, so skipping reads nothing
            if (t.rowMajor()) {
                int per = CHUNK_BYTES / size;
                for (int at = 0; at < out.length; at += per) {
                    int n = Math.min(per, out.length - at);
                    Safetensors.toFloats(dtype, MemorySegment.ofArray(read(in, (long) n * size)), 0, out, at, n);
                }
                return out;
            }
            if (t.span() > Integer.MAX_VALUE - 16) throw new IOException(path + ": tensor '" + name + "' is a strided view spanning " + t.span() + " bytes, more than one read");
            MemorySegment span = MemorySegment.ofArray(read(in, t.span()));
            int rank = t.shape().length;
            long[] index = new long[rank];
            long at = 0;
            for (int i = 0; i < out.length; i++) {
                Safetensors.toFloats(dtype, span, at, out, i, 1);
                for (int k = rank - 1; k >= 0; k--) { // the next index, last dimension fastest, and where it lies
                    at += t.stride()[k];
                    if (++index[k] < t.shape()[k]) break;
                    at -= index[k] * t.stride()[k];
                    index[k] = 0;
                }
            }
            return out;
        } catch (java.io.EOFException e) {
            throw new IOException(path + ": storage " + record(t.storage()) + " ends before tensor '" + name + "' does (a file cut short?)", e);
        } catch (java.util.zip.ZipException e) {
            throw new IOException(path + ": storage " + record(t.storage()) + " of tensor '" + name + "' cannot be read (" + e.getMessage() + ")", e);
        }
    }

    private static byte[] read(InputStream in, long bytes) throws IOException {
        byte[] b = in.readNBytes((int) bytes);
        if (b.length < bytes) throw new java.io.EOFException();
        return b;
    }

    @Override
    public void close() {
        try {
            zip.close();
        } catch (IOException e) { // the archive was only read
        }
    }

    /** A value in a few words (never the value itself, which may be huge or hold itself). */
    static String describe(Object o) {
        return switch (o) {
            case null -> "None";
            case Map<?, ?> m -> "a dict";
            case List<?> l -> "a list of " + l.size();
            case Tuple t -> "a tuple of " + t.items().size();
            case Tensor t -> "a tensor";
            case StorageRef r -> "a storage";
            case Global g -> g.toString();
            case String s -> "the string '" + (s.length() > 60 ? s.substring(0, 60) + "...'" : s + "'");
            default -> "a " + o.getClass().getSimpleName();
        };
    }

    /** A storage as the pickle's persistent id names it, with the element type of its class (UntypedStorage: bytes). */
    record StorageRef(Storage storage, Safetensors.DType dtype) {}

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
                Map.entry("ByteStorage", Safetensors.DType.U8), Map.entry("BoolStorage", Safetensors.DType.BOOL),
                Map.entry("ComplexFloatStorage", Safetensors.DType.C64), Map.entry("UntypedStorage", Safetensors.DType.U8));
        /** The dtypes _rebuild_tensor_v3 names (torch 2.1+ writes it for the ones without a typed storage: float8, uint16-64). */
        private static final Map<String, Safetensors.DType> DTYPES = Map.ofEntries(
                Map.entry("float32", Safetensors.DType.F32), Map.entry("float16", Safetensors.DType.F16), Map.entry("bfloat16", Safetensors.DType.BF16),
                Map.entry("float64", Safetensors.DType.F64), Map.entry("int64", Safetensors.DType.I64), Map.entry("int32", Safetensors.DType.I32),
                Map.entry("int16", Safetensors.DType.I16), Map.entry("int8", Safetensors.DType.I8), Map.entry("uint8", Safetensors.DType.U8),
                Map.entry("bool", Safetensors.DType.BOOL), Map.entry("uint16", Safetensors.DType.U16), Map.entry("uint32", Safetensors.DType.U32),
                Map.entry("uint64", Safetensors.DType.U64), Map.entry("float8_e4m3fn", Safetensors.DType.F8_E4M3),
                Map.entry("float8_e5m2", Safetensors.DType.F8_E5M2), Map.entry("complex64", Safetensors.DType.C64));
        private static final Object MARK = new Object();

        private final String where;
        private final ByteBuffer in;
        private final List<Object> stack = new ArrayList<>();
        private final List<Integer> marks = new ArrayList<>();
        private final Map<Long, Object> memo = new java.util.HashMap<>();
        private int objects;

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
                    case ')' -> push(made(new Tuple(List.of()), at));
                    case 't' -> push(made(new Tuple(popMark(at)), at));
                    case 0x85 -> push(made(tuple(at, 1), at));
                    case 0x86 -> push(made(tuple(at, 2), at));
                    case 0x87 -> push(made(tuple(at, 3), at));
                    case ']' -> push(made(new ArrayList<>(), at));
                    case 'l' -> push(made(new ArrayList<>(popMark(at)), at));
                    case 'a' -> {
                        Object v = pop(at);
                        list(peek(at), at).add(v);
                    }
                    case 'e' -> {
                        List<Object> items = popMark(at);
                        list(peek(at), at).addAll(items);
                    }
                    case '}' -> push(made(new LinkedHashMap<>(), at));
                    case 'd' -> {
                        List<Object> items = popMark(at);
                        Map<Object, Object> m = new LinkedHashMap<>();
                        putAll(m, items, at);
                        push(made(m, at));
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
                        push(made(call(func, t.items(), at), at));
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

        /** o, counted against {@link #MAX_OBJECTS}: a small pickle must not build a heap's worth of containers. */
        private Object made(Object o, int at) throws IOException {
            if (++objects > MAX_OBJECTS) throw error(at, "the pickle builds more than " + MAX_OBJECTS + " objects, more than a state dict's");
            return o;
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
                case "torch._utils" -> List.of("_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter", "_rebuild_parameter_with_state").contains(name);
                case "torch._tensor" -> name.equals("_rebuild_from_type_v2");
                case "torch" -> STORAGES.containsKey(name) || DTYPES.containsKey(name) || name.equals("Tensor");
                case "torch.nn.parameter" -> name.equals("Parameter");
                default -> false;
            };
            if (!allowed) throw error(at, "the pickle names " + module + "." + name + ", which is not part of a state dict as this reader builds one; it is not run");
            return new Global(module, name);
        }

        /** BINPERSID's ('storage', storage type, key, location, element count): a storage of the archive. */
        private StorageRef persistent(Object pid, int at) throws IOException {
            if (!(pid instanceof Tuple t) || t.items().size() != 5 || !"storage".equals(t.items().get(0))) throw error(at, "persistent id " + describe(pid) + " is not a storage");
            List<Object> p = t.items();
            if (!(p.get(1) instanceof Global g) || !g.module().equals("torch") || !STORAGES.containsKey(g.name())) throw error(at, "storage type " + describe(p.get(1)));
            if (!(p.get(2) instanceof String key) || !key.matches("[0-9A-Za-z_]{1,32}")) throw error(at, "storage key " + describe(p.get(2)));
            if (!(p.get(4) instanceof Long n) || n < 0) throw error(at, "storage size " + describe(p.get(4)));
            Safetensors.DType dtype = STORAGES.get(g.name());
            try {
                return new StorageRef(new Storage(key, Math.multiplyExact(n, (long) dtype.bytes())), dtype);
            } catch (ArithmeticException e) {
                throw error(at, "a storage of " + n + " elements of " + dtype + " overflows a byte count");
            }
        }

        private Object call(Object func, List<Object> args, int at) throws IOException {
            if (!(func instanceof Global g)) throw error(at, "REDUCE calls " + describe(func));
            switch (g.toString()) {
                case "collections.OrderedDict" -> {
                    if (!args.isEmpty()) throw error(at, "OrderedDict called with arguments");
                    return new LinkedHashMap<>();
                }
                case "torch._utils._rebuild_tensor_v2" -> { // (storage, offset, size, stride, requires_grad, backward_hooks[, metadata])
                    if (args.size() < 4 || !(args.get(0) instanceof StorageRef s)) throw error(at, "_rebuild_tensor_v2 without a storage and four arguments");
                    return tensor(s, s.dtype(), args, at);
                }
                case "torch._utils._rebuild_tensor_v3" -> { // (storage, offset, size, stride, requires_grad, backward_hooks, dtype[, metadata])
                    if (args.size() < 7 || !(args.get(0) instanceof StorageRef s) || !(args.get(6) instanceof Global d) || !DTYPES.containsKey(d.name())) {
                        throw error(at, "_rebuild_tensor_v3 without a storage, seven arguments and a dtype");
                    }
                    return tensor(s, DTYPES.get(d.name()), args, at);
                }
                case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> { // (data, requires_grad, backward_hooks[, state])
                    if (args.isEmpty() || !(args.getFirst() instanceof Tensor t)) throw error(at, g.name() + " of " + (args.isEmpty() ? "nothing" : describe(args.getFirst())));
                    return t;
                }
                case "torch._tensor._rebuild_from_type_v2" -> { // (func, new_type, args, state): a plain tensor or parameter with Python attributes
                    if (args.size() < 3 || !(args.get(0) instanceof Global f) || !f.module().equals("torch._utils") || !f.name().startsWith("_rebuild_tensor_v")
                            || !(args.get(1) instanceof Global type) || !List.of("torch.Tensor", "torch.nn.parameter.Parameter").contains(type.toString())
                            || !(args.get(2) instanceof Tuple inner)) {
                        throw error(at, "_rebuild_from_type_v2 of something other than a tensor or a parameter");
                    }
                    return call(f, inner.items(), at);
                }
                default -> throw error(at, g + " is not called in a state dict");
            }
        }

        /** A view of s with args' offset, size and stride, checked to lie inside it, every product and sum without overflow. */
        private Tensor tensor(StorageRef s, Safetensors.DType dtype, List<Object> args, int at) throws IOException {
            if (!(args.get(1) instanceof Long offset) || offset < 0) throw error(at, "a tensor's storage offset is " + describe(args.get(1)));
            long[] shape = longs(args.get(2), at), stride = longs(args.get(3), at);
            if (shape.length != stride.length) throw error(at, "a tensor with " + shape.length + " sizes and " + stride.length + " strides");
            try {
                long elements = 1, last = 0;
                for (int k = 0; k < shape.length; k++) {
                    if (shape[k] < 0 || stride[k] < 0) throw error(at, "a tensor with a negative size or stride");
                    elements = Math.multiplyExact(elements, shape[k]);
                    if (shape[k] > 0) last = Math.addExact(last, Math.multiplyExact(shape[k] - 1, stride[k]));
                }
                long span = elements == 0 ? 0 : Math.multiplyExact(last + 1, (long) dtype.bytes());
                long end = Math.addExact(Math.multiplyExact(offset, (long) dtype.bytes()), span);
                if (end > s.storage().bytes()) throw error(at, "a tensor reaching byte " + end + " of a storage of " + s.storage().bytes());
                return new Tensor(s.storage(), dtype, offset, shape, stride, elements, span);
            } catch (ArithmeticException e) {
                throw error(at, "a tensor whose size overflows");
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
