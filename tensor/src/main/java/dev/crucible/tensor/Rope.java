package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * Rotary position embedding in Hugging Face's half-split convention (rotate_half): for the first r
 * dimensions of a head, x = [x1, x2] of r/2 each, out = x·cos + [−x2, x1]·sin with angle pos · base^(−2i/r);
 * the head's other hs − r dimensions pass unchanged (GPT-NeoX's partial rotary, r = int(hs · rotary_pct);
 * r = hs rotates whole heads, as Llama). Applied in place to the query and key heads of the fused qkv activation.
 */
public final class Rope {
    private final WorkerPool pool;
    private final float[] cos, sin;
    private final int half, maxT;

    /**
     * Llama 3.1's frequency scaling (transformers' rope_type "llama3", _compute_llama3_parameters): a frequency
     * whose wavelength 2π/f exceeds originalMaxPositions / lowFreqFactor is divided by factor, one whose wavelength
     * is below originalMaxPositions / highFreqFactor is kept, and those between are interpolated, (1 − s)·f/factor +
     * s·f with s = (originalMaxPositions / wavelength − lowFreqFactor) / (highFreqFactor − lowFreqFactor). In float32,
     * each step as torch takes it (Python's scalars rounded to float32 where they meet the float32 tensor).
     */
    public record Llama3Scaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        public Llama3Scaling {
            if (!(factor > 0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalMaxPositions <= 0 || Double.isInfinite(factor)
                    || Double.isInfinite(highFreqFactor)) {
                throw new IllegalArgumentException("llama3 RoPE scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor and "
                        + "original_max_position_embeddings > 0, got " + this);
            }
        }

        float scale(float invFreq) {
            float wavelen = (float) (2 * Math.PI) / invFreq, f = (float) factor;
            float lowWavelen = (float) (originalMaxPositions / lowFreqFactor), highWavelen = (float) (originalMaxPositions / highFreqFactor);
            float scaled = wavelen > lowWavelen ? invFreq / f : invFreq;
            if (wavelen < highWavelen || wavelen > lowWavelen) return scaled;
            float smooth = ((float) originalMaxPositions / wavelen - (float) lowFreqFactor) / (float) (highFreqFactor - lowFreqFactor);
            return (1 - smooth) * scaled / f + smooth * scaled;
        }
    }

    /** Whole heads rotated: tables for positions [0, maxT) computed in float32 as transformers does. */
    public Rope(WorkerPool pool, int maxT, int hs, double base) {
        this(pool, maxT, hs, hs, base, null);
    }

    /** The first rotary of each head's hs dimensions rotated, the frequencies scaled as Llama 3.1's when scaling is not null. */
    public Rope(WorkerPool pool, int maxT, int hs, int rotary, double base, Llama3Scaling scaling) {
        if (rotary % 2 != 0 || rotary <= 0 || rotary > hs) {
            throw new IllegalArgumentException("RoPE needs an even number of rotary dimensions in (0, " + hs + "], got " + rotary);
        }
        this.pool = pool;
        this.half = rotary / 2;
        this.maxT = maxT;
        cos = new float[maxT * half];
        sin = new float[maxT * half];
        for (int i = 0; i < half; i++) {
            float invFreq = (float) (1.0 / Math.pow(base, (float) (2 * i) / rotary));
            if (scaling != null) invFreq = scaling.scale(invFreq);
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
        for (int h = 0; h < heads; h++) rotate(x, off + h * hs, pos * half, 1f);
    }

    private void apply(float[] x, int off, int b, int t, int nh, int nkv, int hs, float sign) {
        if (t > maxT) throw new IllegalArgumentException("sequence length " + t + " exceeds RoPE table size " + maxT);
        final int w = Attention.qkvWidth(nh, nkv, hs), heads = nh + nkv;
        pool.forRange(b * t, pool.chunksFor((long) b * t * heads * hs, 1 << 13), (s, e, ch, wk) -> {
            for (int row = s; row < e; row++) {
                int tab = row % t * half, rb = off + row * w;
                for (int h = 0; h < heads; h++) rotate(x, rb + h * hs, tab, sign);
            }
        });
    }

    /**
     * One head at x1 (its halves at x1 and x1 + half) rotated by the angles at table row tab, the sine times sign:
     * x1 := x1·cos − x2·sin, x2 := x2·cos + x1·sin, each product rounded before the sum as in the scalar form (the same
     * bits). By vectors, in a method of its own: the scalar loop ran element by element (in place, C2 did not
     * vectorise it), and a loop inside the pool's lambda would stay uncompiled for a run's first steps.
     */
    private void rotate(float[] x, int x1, int tab, float sign) {
        int x2 = x1 + half, i = 0, bound = Vec.S.loopBound(half);
        for (; i < bound; i += Vec.L) {
            FloatVector c = FloatVector.fromArray(Vec.S, cos, tab + i), sn = FloatVector.fromArray(Vec.S, sin, tab + i).mul(sign);
            FloatVector a = FloatVector.fromArray(Vec.S, x, x1 + i), bb = FloatVector.fromArray(Vec.S, x, x2 + i);
            a.mul(c).sub(bb.mul(sn)).intoArray(x, x1 + i);
            bb.mul(c).add(a.mul(sn)).intoArray(x, x2 + i);
        }
        for (; i < half; i++) {
            float c = cos[tab + i], sn = sign * sin[tab + i];
            float a = x[x1 + i], bb = x[x2 + i];
            x[x1 + i] = a * c - bb * sn;
            x[x2 + i] = bb * c + a * sn;
        }
    }
}
