package dev.crucible.model;

import dev.crucible.tensor.Activations;
import dev.crucible.tensor.Elementwise;
import dev.crucible.tensor.Norms;
import dev.crucible.tensor.Rope;
import dev.crucible.tensor.WorkerPool;

/**
 * The kernels a {@link BlockPlan} asks for, bound once per model or generator: each layer's two norms
 * and MLP activation, the final norm, and the RoPE tables when positions are rotary (null otherwise).
 *
 * @param maxInWidth the widest MLP input projection of any layer (buffers are sized by it)
 */
record PlanKernels(NormOp[] attnNorm, NormOp[] mlpNorm, MlpActivation[] mlp, NormOp finalNorm, Rope rope, int maxInWidth) {

    static PlanKernels of(BlockPlan plan, ModelConfig cfg, WorkerPool pool) {
        Norms norms = new Norms(pool);
        Elementwise elementwise = new Elementwise(pool);
        Activations act = new Activations(pool);
        int n = plan.layers().size(), maxIn = 0;
        NormOp[] attnNorm = new NormOp[n], mlpNorm = new NormOp[n];
        MlpActivation[] mlp = new MlpActivation[n];
        for (BlockPlan.Layer lp : plan.layers()) {
            attnNorm[lp.index()] = new NormOp(lp.attention().norm(), norms, elementwise, cfg.normEps(), lp.attention().scale());
            mlpNorm[lp.index()] = new NormOp(lp.mlpSublayer().norm(), norms, elementwise, cfg.normEps(), lp.mlpSublayer().scale());
            mlp[lp.index()] = new MlpActivation(lp.mlp(), act);
            maxIn = Math.max(maxIn, lp.mlp().inWidth(cfg.intermediateSize()));
        }
        Rope rope = plan.positions() == BlockPlan.Positions.ROPE ? new Rope(pool, cfg.contextLength(), cfg.headSize(), plan.rotaryDims(), cfg.ropeTheta(), cfg.ropeScaling()) : null;
        return new PlanKernels(attnNorm, mlpNorm, mlp, new NormOp(plan.finalNorm(), norms, elementwise, cfg.normEps(), 1f), rope, maxIn);
    }
}
