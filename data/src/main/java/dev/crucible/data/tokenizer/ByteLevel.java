package dev.crucible.data.tokenizer;

/**
 * GPT-2's reversible map from bytes to printable Unicode characters, used by byte-level BPE
 * vocabularies in tokenizer.json: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100 onwards, so every token is a readable string.
 */
public final class ByteLevel {
    private ByteLevel() {}

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    public static String encode(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(BYTE_TO_CHAR[b & 0xFF]);
        return sb.toString();
    }

    /** The bytes of a byte-level token string, or null when a character is outside the map. */
    public static byte[] decode(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) return null;
            out[i] = (byte) CHAR_TO_BYTE[c];
        }
        return out;
    }
}
