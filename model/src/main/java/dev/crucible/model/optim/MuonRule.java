package dev.crucible.model.optim;

import dev.crucible.model.HfFormat;
import dev.crucible.model.Safetensors;
import dev.crucible.tensor.NewtonSchulz;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Muon (Keller Jordan's muon.py; Moonlight's toy_train.py): Nesterov momentum, orthogonalised by
 * ns_steps quintic Newton–Schulz steps, scaled by the matrix's shape. Keller's form keeps
 * m = β·m + (1−β)·g and applies u = (1−β)·g + β·m with scale sqrt(max(1, out/in)); Moonlight's keeps
 * m = β·m + g, u = g + β·m, with scale 0.2·sqrt(max(out, in)) so that the update's RMS matches
 * AdamW's. Newton–Schulz normalises u, so the two forms differ only in that scale. Weight decay is
 * decoupled: W ← W·(1 − lr·wd) − lr·scale·NS(u). State momentum_buffer per matrix.
 */
final class MuonRule implements UpdateRule {
    private final Hyperparameters h;
    private final List<MatrixUnit> units;
    private final NewtonSchulz ns;
    private final boolean keller;
    final float[][] momentum;
    private float[] u = new float[0], o = new float[0];

    MuonRule(List<MatrixUnit> units, Hyperparameters h, NewtonSchulz ns) {
        this.h = h;
        this.units = units;
        this.ns = ns;
        this.keller = h.shapeScale().equals(Hyperparameters.KELLER);
        this.momentum = new float[units.size()][];
        for (int i = 0; i < units.size(); i++) momentum[i] = new float[units.get(i).size()];
    }

    /** The update's scale for an out × in matrix. */
    static double shapeScale(boolean keller, int out, int in) {
        return keller ? Math.sqrt(Math.max(1.0, (double) out / in)) : 0.2 * Math.sqrt(Math.max(out, in));
    }

    @Override
    public void step(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        double rate = UpdateRule.rate(h.lr(), lr, baseLr);
        float beta = h.momentum().floatValue(), gain = keller ? 1 - beta : 1f;
        float decay = (float) (1 - rate * h.weightDecay());
        for (int k = 0; k < units.size(); k++) {
            MatrixUnit mu = units.get(k);
            float[] mom = momentum[k];
            int n = mu.size();
            if (u.length < n) {
                u = new float[n];
                o = new float[n];
            }
            for (int i = 0; i < n; i++) {
                float g = grads[mu.offset() + i] * gradScale * gain;
                float m = beta * mom[i] + g;
                mom[i] = m;
                u[i] = g + beta * m;
            }
            ns.quintic(u, 0, mu.rows(), mu.cols(), h.nsSteps(), o, 0);
            float step = (float) (rate * shapeScale(keller, mu.rows(), mu.cols()));
            mu.descend(params, o, decay, step);
        }
    }

    @Override
    public List<Safetensors.Source> state() {
        List<Safetensors.Source> out = new ArrayList<>();
        for (int k = 0; k < units.size(); k++) {
            MatrixUnit mu = units.get(k);
            float[] mom = momentum[k];
            out.add(new Safetensors.Source(mu.name() + ".momentum_buffer", mu.hf().shape(), () -> mu.toHf(mom)));
        }
        return out;
    }

    @Override
    public void load(Safetensors.TensorSource file) throws IOException {
        for (int k = 0; k < units.size(); k++) {
            MatrixUnit mu = units.get(k);
            mu.fromHf(HfFormat.read(file, mu.name() + ".momentum_buffer", mu.hf().shape()), momentum[k]);
        }
    }
}
