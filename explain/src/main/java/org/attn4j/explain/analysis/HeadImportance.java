package org.attn4j.explain.analysis;

/**
 * Head importance scores (Michel, Levy and Neubig, "Are Sixteen Heads Really Better than One?",
 * NeurIPS 2019). Only the normalisation is here; computing the raw scores needs model hooks
 * (ablation) or a backward pass (gradients).
 */
public final class HeadImportance {

    private HeadImportance() {}

    /**
     * Per-layer L2 normalisation: each row {@code raw[l]} (the heads of layer l) divided by its Euclidean
     * norm. A layer whose scores are all 0 stays 0. Rows may have different lengths.
     *
     * @param raw importance scores {@code [layers][heads]}, finite
     * @return a new {@code [layers][heads]} array
     */
    public static double[][] normalisePerLayer(double[][] raw) {
        if (raw == null) {
            throw new IllegalArgumentException("raw: null (expected [layers][heads] scores)");
        }
        double[][] out = new double[raw.length][];
        for (int l = 0; l < raw.length; l++) {
            if (raw[l] == null) {
                throw new IllegalArgumentException("raw[" + l + "]: null (expected that layer's head scores)");
            }
            double sq = 0;
            for (int h = 0; h < raw[l].length; h++) {
                double x = raw[l][h];
                if (!Double.isFinite(x)) {
                    throw new IllegalArgumentException("raw[" + l + "][" + h + "]: " + x + " (expected a finite score)");
                }
                sq += x * x;
            }
            double norm = Math.sqrt(sq);
            out[l] = new double[raw[l].length];
            for (int h = 0; h < raw[l].length; h++) {
                out[l][h] = norm == 0 ? 0 : raw[l][h] / norm;
            }
        }
        return out;
    }
}
