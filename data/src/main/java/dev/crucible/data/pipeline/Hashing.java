package dev.crucible.data.pipeline;

/** Fast, fixed 64-bit hashing of text (not cryptographic; stable across runs and JVMs). */
final class Hashing {
    private Hashing() {}

    /** SplitMix64's finaliser: a bijective mix with full avalanche. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static long hash(CharSequence s, long seed) {
        long h = mix(seed ^ s.length());
        int n = s.length(), i = 0;
        for (; i + 4 <= n; i += 4) {
            long block = s.charAt(i) | (long) s.charAt(i + 1) << 16 | (long) s.charAt(i + 2) << 32 | (long) s.charAt(i + 3) << 48;
            h = mix(h ^ block) + 0x9E3779B97F4A7C15L;
        }
        long tail = 0;
        for (int k = 0; i < n; i++, k += 16) tail |= (long) s.charAt(i) << k;
        return mix(h ^ tail ^ 0xD6E8FEB86659FD93L);
    }
}
