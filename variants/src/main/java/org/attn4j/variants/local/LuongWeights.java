package org.attn4j.variants.local;

import org.attn4j.variants.Init;

/**
 * The learned parameters of {@link LuongAttention} for {@code heads} query heads of width {@code d}
 * (each head has its own; the attention hidden sizes equal d). All row-major.
 *
 * @param general  W of the general score, {@code [heads, d, d]}: {@code score = qᵀ·W·k}
 * @param concatW  Wₐ of the concat score, {@code [heads, d, 2d]}: columns [0, d) act on q, [d, 2d) on k
 * @param concatV  vₐ of the concat score, {@code [heads, d]}
 * @param predictW W_p of local-p's position predictor, {@code [heads, d, d]}
 * @param predictV v_p of local-p's position predictor, {@code [heads, d]}:
 *                 {@code p_t = Nk·sigmoid(v_p·tanh(W_p·q_t))}
 */
public record LuongWeights(int heads, int d, float[] general, float[] concatW, float[] concatV, float[] predictW, float[] predictV) {
    public LuongWeights {
        if (heads < 1) throw new IllegalArgumentException("heads: expected >= 1, got " + heads);
        if (d < 1) throw new IllegalArgumentException("d: expected >= 1, got " + d);
        general = check("general", general, heads * d * d);
        concatW = check("concatW", concatW, heads * d * 2 * d);
        concatV = check("concatV", concatV, heads * d);
        predictW = check("predictW", predictW, heads * d * d);
        predictV = check("predictV", predictV, heads * d);
    }

    private static float[] check(String name, float[] a, int n) {
        if (a == null || a.length != n) {
            throw new IllegalArgumentException(name + ": expected " + n + " values, got " + (a == null ? "null" : a.length));
        }
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(a[i])) throw new IllegalArgumentException(name + ": expected finite values, got " + a[i] + " at index " + i);
        }
        return a.clone();
    }

    /** Glorot-uniform matrices and vectors drawn from the seed. */
    public static LuongWeights init(long seed, int heads, int d) {
        double vec = Math.sqrt(6.0 / (d + 1));
        return new LuongWeights(heads, d,
                Init.uniform(seed, "luong.general", heads * d * d, -Math.sqrt(3.0 / d), Math.sqrt(3.0 / d)),
                Init.uniform(seed, "luong.concat.W", heads * d * 2 * d, -Math.sqrt(6.0 / (3 * d)), Math.sqrt(6.0 / (3 * d))),
                Init.uniform(seed, "luong.concat.v", heads * d, -vec, vec),
                Init.uniform(seed, "luong.predict.W", heads * d * d, -Math.sqrt(3.0 / d), Math.sqrt(3.0 / d)),
                Init.uniform(seed, "luong.predict.v", heads * d, -vec, vec));
    }

    /** The same weights with W of the general score replaced by the identity (general then equals dot). */
    public LuongWeights withIdentityGeneral() {
        float[] eye = new float[heads * d * d];
        for (int h = 0; h < heads; h++) for (int i = 0; i < d; i++) eye[h * d * d + i * d + i] = 1f;
        return new LuongWeights(heads, d, eye, concatW, concatV, predictW, predictV);
    }

    @Override public float[] general() { return general.clone(); }
    @Override public float[] concatW() { return concatW.clone(); }
    @Override public float[] concatV() { return concatV.clone(); }
    @Override public float[] predictW() { return predictW.clone(); }
    @Override public float[] predictV() { return predictV.clone(); }
}
