package dev.crucible.tensor;

/**
 * Rotary position embedding in Hugging Face's half-split convention (rotate_half): for a head
 * vector x = [x1, x2] of size hs, out = x·cos + [−x2, x1]·sin with angle pos · base^(−2i/hs).
 * Applied in place to the query and key heads of the fused qkv activation.
 */
public final class Rope {
    private final WorkerPool pool;
    private final float[] cos, sin;
    private final int half, maxT;

    /** Tables for positions [0, maxT) computed in float32 as transformers does. */
    public Rope(WorkerPool pool, int maxT, int hs, double base) {
        if (hs % 2 != 0) throw new IllegalArgumentException("RoPE needs an even head size, got " + hs);
        this.pool = pool;
        this.half = hs / 2;
        this.maxT = maxT;
        cos = new float[maxT * half];
        sin = new float[maxT * half];
        for (int i = 0; i < half; i++) {
            float invFreq = (float) (1.0 / Math.pow(base, (float) (2 * i) / hs));
            for (int t = 0; t < maxT; t++) {
                float angle = (float) t * invFreq;
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
    }

    public void forward(float[] qkv, int off, int b, int t, int nh, int nkv, int hs) {
        apply(qkv, off, b, t, nh, nkv, hs, 1f);
    }

    /** The rotation is orthogonal, so the gradient is the inverse rotation (negated sine). */
    public void backward(float[] dqkv, int off, int b, int t, int nh, int nkv, int hs) {
        apply(dqkv, off, b, t, nh, nkv, hs, -1f);
    }

    /** Rotates `heads` consecutive heads of one row at off, all at position pos (incremental decoding). */
    public void rotateRow(float[] x, int off, int pos, int heads, int hs) {
        if (pos >= maxT) throw new IllegalArgumentException("position " + pos + " exceeds RoPE table size " + maxT);
        int tab = pos * half;
        for (int h = 0; h < heads; h++) {
            int x1 = off + h * hs, x2 = x1 + half;
            for (int i = 0; i < half; i++) {
                float c = cos[tab + i], sn = sin[tab + i];
                float a = x[x1 + i], bb = x[x2 + i];
                x[x1 + i] = a * c - bb * sn;
                x[x2 + i] = bb * c + a * sn;
            }
        }
    }

    private void apply(float[] x, int off, int b, int t, int nh, int nkv, int hs, float sign) {
        if (t > maxT) throw new IllegalArgumentException("sequence length " + t + " exceeds RoPE table size " + maxT);
        final int w = Attention.qkvWidth(nh, nkv, hs), heads = nh + nkv;
        pool.forRange(b * t, pool.chunksFor((long) b * t * heads * hs, 1 << 13), (s, e, ch, wk) -> {
            for (int row = s; row < e; row++) {
                int pos = row % t, tab = pos * half, rb = off + row * w;
                for (int h = 0; h < heads; h++) {
                    int x1 = rb + h * hs, x2 = x1 + half;
                    for (int i = 0; i < half; i++) {
                        float c = cos[tab + i], sn = sign * sin[tab + i];
                        float a = x[x1 + i], bb = x[x2 + i];
                        x[x1 + i] = a * c - bb * sn;
                        x[x2 + i] = bb * c + a * sn;
                    }
                }
            }
        });
    }
}
