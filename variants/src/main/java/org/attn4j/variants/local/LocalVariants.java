package org.attn4j.variants.local;

import java.util.List;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantFactory;

/** Registry entries of the blocked and windowed local mechanisms (HaloNet, CSWin, SF-Attn) and Luong's attention. */
public final class LocalVariants {
    private LocalVariants() {}

    private static final String SCALE = "scale=real (default 1/sqrt(D)): logit scale";

    public static List<VariantFactory> factories() {
        return List.of(
                new VariantFactory(HaloAttention.INFO, List.of(
                        "dims=int (1 or 2, default 2): a sequence or a row-major HxW grid",
                        "grid=HxW or N (default: a square grid of N, or N in 1-D): the token grid",
                        "block=int or HxW (default " + HaloParams.DEFAULT_BLOCK + "): query block extent per dimension (b)",
                        "halo=int or HxW (default " + HaloParams.DEFAULT_HALO + "): halo per side and dimension (h)",
                        "padding=mask|zero (default mask): window positions beyond the grid are masked out, or zero keys and values as in HaloNet's zero-padded map",
                        SCALE),
                        (s, seed) -> {
                            int dims = s.integer("dims", 2);
                            if (dims != 1 && dims != 2) throw new IllegalArgumentException("dims: expected 1 or 2, got " + dims);
                            return new HaloAttention(new HaloParams(dims, s.integers("grid", dims, null),
                                    s.integers("block", dims, fill(dims, HaloParams.DEFAULT_BLOCK)),
                                    s.integers("halo", dims, fill(dims, HaloParams.DEFAULT_HALO)), scale(s),
                                    s.choice("padding", "mask", "mask", "zero").equals("zero")));
                        }),
                new VariantFactory(CswinAttention.INFO, List.of(
                        "grid=HxW (default: a square grid of N): the token grid",
                        "stripe=int (default " + CswinParams.DEFAULT_STRIPE + "): stripe width sw",
                        "lepe=bool (default true): add LePE, a learned depthwise 3x3 conv of V inside each stripe",
                        SCALE),
                        (s, seed) -> new CswinAttention(new CswinParams(s.integers("grid", 2, null), s.integer("stripe", CswinParams.DEFAULT_STRIPE),
                                s.bool("lepe", true), scale(s)), seed)),
                new VariantFactory(SinkFixedAttention.INFO, List.of(
                        "group=int (default 0 = N/4): group size g",
                        "sinks=int (default " + SfAttnParams.DEFAULT_SINKS + "): the first s tokens, visible to every query",
                        "shift=bool (default true): the second half of the heads uses groups shifted by g/2 (returned to place, no wrap-around)",
                        "causal=bool (default true): queries see only keys at or before them",
                        SCALE),
                        (s, seed) -> new SinkFixedAttention(new SfAttnParams(s.integer("group", 0), s.integer("sinks", SfAttnParams.DEFAULT_SINKS),
                                s.bool("shift", true), s.bool("causal", true), scale(s)))),
                luong(LuongAttention.GLOBAL, LuongParams.Mode.GLOBAL),
                luong(LuongAttention.LOCAL_M, LuongParams.Mode.LOCAL_M),
                luong(LuongAttention.LOCAL_P, LuongParams.Mode.LOCAL_P));
    }

    private static VariantFactory luong(org.attn4j.variants.VariantInfo info, LuongParams.Mode mode) {
        List<String> params = mode == LuongParams.Mode.GLOBAL
                ? List.of("score=dot|general|concat (default dot): q.k, q.W.k or v.tanh(W[q;k]) (W, v learned, from the seed)",
                        "scale=real (default 1/sqrt(D); 1 = the paper): factor on dot and general scores")
                : List.of("score=dot|general|concat (default dot): q.k, q.W.k or v.tanh(W[q;k]) (W, v learned, from the seed)",
                        "window=int (default " + LuongParams.DEFAULT_WINDOW + "): half-width D of the window [p_t-D, p_t+D]"
                                + (mode == LuongParams.Mode.LOCAL_P ? "; Gaussian sigma = D/2" : ""),
                        "scale=real (default 1/sqrt(D); 1 = the paper): factor on dot and general scores");
        return new VariantFactory(info, params, (s, seed) -> {
            LuongParams.Score score = LuongParams.Score.valueOf(s.choice("score", "dot", "dot", "general", "concat").toUpperCase());
            int window = mode == LuongParams.Mode.GLOBAL ? 0 : s.integer("window", LuongParams.DEFAULT_WINDOW);
            return new LuongAttention(new LuongParams(mode, score, window, scale(s)), seed);
        });
    }

    private static Float scale(Settings s) {
        return s.has("scale") ? (float) s.real("scale", 0) : null;
    }

    private static int[] fill(int n, int value) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, value);
        return a;
    }
}
