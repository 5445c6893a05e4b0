package org.attn4j.variants.trainable;

import java.util.List;
import java.util.Map;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.contentsparse.MobaAttention;
import org.attn4j.variants.contentsparse.MobaParams;
import org.attn4j.variants.heads.CogAttention;
import org.attn4j.variants.heads.CogParams;
import org.attn4j.variants.heads.MixtureOfHeadsAttention;
import org.attn4j.variants.heads.MixtureOfHeadsParams;
import org.attn4j.variants.heads.TalkingHeadsAttention;
import org.attn4j.variants.heads.TalkingHeadsParams;
import org.attn4j.variants.latent.MlaParams;
import org.attn4j.variants.latent.MultiHeadLatentAttention;
import org.attn4j.variants.linear.LinearAttention;
import org.attn4j.variants.linear.LinearParams;
import org.attn4j.variants.linear.LlnAttention;
import org.attn4j.variants.linear.LlnParams;
import org.attn4j.variants.neighborhood.NeighborhoodAttention;
import org.attn4j.variants.neighborhood.NeighborhoodParams;
import org.attn4j.variants.trainable.Float64Attention.Dims;
import org.junit.jupiter.api.Test;

/**
 * Differential tests: each trainable variant's forward against the existing forward-only variant
 * (an independent implementation, float32, on the engine's kernels) with the settings and weights
 * made to coincide, on shapes with odd N and N = 1.
 */
class ForwardOnlyAgreementTest {
    private static final int[] LENGTHS = {1, 9, 20};

    /** Runs both on random inputs of [2, heads, n, d] and compares the outputs. */
    private static void agree(String what, TrainableAttention t, int heads, int d, java.util.function.Function<Map<String, float[]>, Variant> variant) {
        agree(what, t, heads, d, 1, variant);
    }

    private static void agree(String what, TrainableAttention t, int heads, int d, int minN, java.util.function.Function<Map<String, float[]>, Variant> variant) {
        for (int n : LENGTHS) {
            if (n < minN) continue;
            Dims dims = new Dims(2, heads, n, d, d);
            Float64Attention f64 = t instanceof Float64Attention f ? f : null;
            List<TrainableParam> params = t.parameters(heads, d, n);
            GradCheck.Problem p = f64 != null ? new GradCheck.Problem(f64, dims, 100 + n) : new GradCheck.Problem(new MobaTrainable(new MobaParams(1, 1)), dims, 100 + n);
            Map<String, Tensor> w = f64 != null ? GradCheck.weightTensors(f64, p) : Map.of();
            Map<String, float[]> wf = new java.util.HashMap<>();
            for (TrainableParam tp : params) wf.put(tp.name(), w.get(tp.name()).toArray());
            Tensor q = GradCheck.tensor(p.q, dims, d), k = GradCheck.tensor(p.k, dims, d), v = GradCheck.tensor(p.v, dims, d);
            Tensor expected = variant.apply(wf).run(q, k, v, 1).output();
            Tensor actual = t.forward(q, k, v, w, 1).output();
            VariantAssert.assertClose(expected, actual, 2e-5, 2e-4, what + " N=" + n);
        }
    }

    private static TrainableAttention create(String name, String... settings) {
        return TrainableRegistry.create(name, Settings.of(settings));
    }

    @Test
    void neighborhood1dIsTheEngineWindow() {
        for (int kernel : new int[] {1, 3, 7}) {
            // The forward-only variant rejects a kernel longer than the sequence; the trainable one
            // (whose sequence length is fixed only by the task) treats it as plain causal attention.
            agree("neighborhood-1d kernel=" + kernel, create("neighborhood-1d", "kernel=" + kernel), 2, 4, kernel,
                    w -> new NeighborhoodAttention(new NeighborhoodParams(new int[] {kernel}, null, null, new boolean[] {true}, null, null)));
        }
    }

    @Test
    void mobaSelectsTheSameBlocks() {
        agree("moba block=4 topk=3", create("moba", "block=4", "topk=3"), 2, 4, w -> new MobaAttention(new MobaParams(4, 3)));
        agree("moba block=3 topk=2", create("moba", "block=3", "topk=2"), 2, 3, w -> new MobaAttention(new MobaParams(3, 2)));
        agree("moba default", create("moba"), 1, 4, w -> new MobaAttention(new MobaParams(0, 3)));
    }

    @Test
    void linearAndLlnAreTheCausalForms() {
        agree("linear elu1", create("linear", "chunk=4"), 2, 4, w -> new LinearAttention(new LinearParams("elu1", true, 64)));
        agree("linear relu", create("linear", "feature=relu", "chunk=3"), 2, 4, w -> new LinearAttention(new LinearParams("relu", true, 5)));
        agree("lln", create("lln", "chunk=5"), 2, 4, w -> new LlnAttention(new LlnParams(true, 64, Double.NaN, Double.NaN)));
        agree("lln sigmas", create("lln", "sigmaq=0.8", "sigmak=1.2"), 2, 4, w -> new LlnAttention(new LlnParams(true, 3, 0.8, 1.2)));
    }

    @Test
    void talkingHeadsWithTheSameMatrices() {
        agree("talking-heads", create("talking-heads"), 3, 4,
                w -> new TalkingHeadsAttention(new TalkingHeadsParams(true, 0, 0, true, true), w.get("logit_mix"), w.get("weight_mix")));
        agree("talking-heads post", create("talking-heads", "pre=false", "scale=0.7"), 2, 4,
                w -> new TalkingHeadsAttention(new TalkingHeadsParams(true, 0.7, 0, false, true), null, w.get("weight_mix")));
    }

    @Test
    void cogIsTheCausalForm() {
        agree("cog", create("cog"), 2, 4, w -> new CogAttention(new CogParams(true, 0)));
        agree("cog scale", create("cog", "scale=0.9"), 1, 3, w -> new CogAttention(new CogParams(true, 0.9)));
    }

    @Test
    void mohWithTheSameRouter() {
        agree("moh H=4", create("moh"), 4, 3,
                w -> new MixtureOfHeadsAttention(new MixtureOfHeadsParams(2, 1, true, 0), w.get("router_routed"), w.get("router_shared"), w.get("router_stage")));
        agree("moh shared=1 top-k=2", create("moh", "shared=1", "top-k=2"), 4, 3,
                w -> new MixtureOfHeadsAttention(new MixtureOfHeadsParams(1, 2, true, 0), w.get("router_routed"), null, w.get("router_stage")));
        agree("moh shared=0", create("moh", "shared=0", "top-k=2"), 3, 4,
                w -> new MixtureOfHeadsAttention(new MixtureOfHeadsParams(0, 2, true, 0), w.get("router_routed"), null, null));
    }

    @Test
    void mlaWithTheSameWeights() {
        for (int[] widths : new int[][] {{5, 6, 2}, {0, 0, 0}}) {
            int heads = 2, d = 4;
            MlaTrainable t = (MlaTrainable) create("mla", "kv-rank=" + widths[0], "q-rank=" + widths[1], "rope-dim=" + widths[2]);
            agree("mla " + java.util.Arrays.toString(widths), t, heads, d, w -> new MultiHeadLatentAttention(new MlaParams(widths[0], widths[1], widths[2], false, true),
                    new MultiHeadLatentAttention.Weights(heads, d, heads * d, heads * d, t.dc(d), t.dcq(d), t.dr(d),
                            w.get("w_dq"), w.get("g_q"), w.get("w_uq"), w.get("w_qr"), w.get("w_dkv"), w.get("g_kv"),
                            w.get("w_uk"), w.get("w_uv"), w.get("w_kr"), w.get("w_o"))));
        }
    }
}
