package dev.crucible.lint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.data.pipeline.Doc;
import dev.crucible.data.pipeline.Operators;
import dev.crucible.data.pipeline.Params;
import org.junit.jupiter.api.Test;

class JavaStyleFilterTest {
    private static final String CLEAN = """
            package com.example;

            /** Adds numbers. */
            public final class Adder {
              private Adder() {}

              /**
               * Returns the sum.
               *
               * @param a the first number
               * @param b the second number
               * @return a plus b
               */
              public static int add(int a, int b) {
                return a + b;
              }
            }
            """;

    private static final String MESSY = """
            package com.example;
            public class messy_name {
            public static int ADD(int A,int B){ int x=A+B; if(x>0) return x; else return -x; }
            public static int Sub(int A,int B){return A-B;}
            }
            """;

    private static JavaStyleFilter filter(Object... kv) {
        return (JavaStyleFilter) ((Operators.PerDoc) Operators.create("java_style_filter", Params.of(kv).asMap())).op();
    }

    @Test
    void cleanCodeScoresTenAndMessyCodeIsRemoved() {
        JavaStyleFilter f = filter("min_score", 7.0);
        JavaStyleFilter.Result clean = f.check(CLEAN);
        assertEquals(10.0, clean.score(), 1e-9, clean.toString());
        JavaStyleFilter.Result messy = f.check(MESSY);
        assertTrue(messy.parsed());
        assertTrue(messy.score() < 7, messy.toString());
        Operator.Outcome kept = f.apply(new Doc("a", CLEAN));
        assertEquals("10.00", kept.doc().meta("style_score"));
        Operator.Outcome removed = f.apply(new Doc("b", MESSY));
        assertTrue(removed.removed());
        assertEquals("low_score", removed.rule());
        assertTrue(removed.detail().startsWith("google score "), removed.detail());
        // the clean file scores 10 only because it is checked as com/example/Adder.java (Google style flags a file name or
        // directory that does not match the type and package)
    }

    @Test
    void unparsableCodeAndBadConfigsAreNamed() {
        JavaStyleFilter f = filter();
        Operator.Outcome o = f.apply(new Doc("c", "public class Broken { void f( { }"));
        assertTrue(o.removed());
        assertEquals("unparsable", o.rule(), o.detail());
        assertTrue(filter("config", "sun").check(CLEAN).parsed());
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> filter("config", "/nonexistent/checks.xml"));
        assertTrue(e.getMessage().contains("/nonexistent/checks.xml: no such file"), e.getMessage());
    }

    private interface Operator extends dev.crucible.data.pipeline.Operator {}
}
