package dev.crucible.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Python's str methods as Python defines them (values from CPython 3.11). */
class PythonTextTest {
    /** str.isspace's definition, category Zs or bidirectional class WS, B or S, against the fast form for every BMP code point. */
    @Test
    void isSpaceIsPythonsDefinitionEverywhereInTheBmp() {
        for (int cp = 0; cp < 0x10000; cp++) {
            byte d = Character.getDirectionality(cp);
            boolean python = Character.getType(cp) == Character.SPACE_SEPARATOR || d == Character.DIRECTIONALITY_WHITESPACE
                    || d == Character.DIRECTIONALITY_PARAGRAPH_SEPARATOR || d == Character.DIRECTIONALITY_SEGMENT_SEPARATOR;
            assertEquals(python, PythonText.isSpace(cp), Integer.toHexString(cp));
        }
        for (int cp : new int[] {' ', '\t', '\n', 0x0B, '\f', '\r', 0x1C, 0x1D, 0x1E, 0x1F, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}) {
            assertTrue(PythonText.isSpace(cp), Integer.toHexString(cp));
        }
        for (int cp : new int[] {'a', 0x200B, 0xFEFF, 0x180E, '_'}) assertFalse(PythonText.isSpace(cp), Integer.toHexString(cp));
    }

    @Test
    void stripSplitAndWords() {
        assertEquals("a b", PythonText.strip("\u00A0\u3000a b\u0085\n"));
        assertEquals("", PythonText.strip(" \t"));
        assertEquals("a ", PythonText.stripLeading("\u2028a "));
        assertEquals(" a", PythonText.stripTrailing(" a\u001F"));
        assertEquals(1, PythonText.rstripLength("a \u3000\n"));
        assertEquals(List.of("a", "b", "c"), PythonText.split(" a\u00A0b\u001Cc "));
        assertEquals(List.of(), PythonText.split(" \n"));
        assertEquals(4, PythonText.words(" a b\n"), "len(re.split(r'\\s+', ' a b\\n')): ['', 'a', 'b', '']");
        assertEquals(1, PythonText.words(""));
        assertEquals(2, PythonText.words("a\u00A0\u2028 b"), "one run of three spaces");
        assertEquals(3, PythonText.words("a\u001Fb c"), "\\x1f is whitespace to Python");
        assertEquals(1, PythonText.words("a\u200Bb"), "a zero-width space is not");
        assertEquals(2, PythonText.length("\uD835\uDD38b"), "code points");
    }
}
