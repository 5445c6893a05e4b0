package org.attn4j.train.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link RelationLoss} against an independent float64 evaluation written from the paper's
 * definition (per sequence, kind and relation head: KL of row softmaxes, mean over heads and
 * tokens, summed over Q, K, V) and its gradient against central differences of that evaluation.
 */
class RelationLossTest {
    static final int[] OFFSETS = {0, 5, 6, 13};   // lengths 5, 1 (a single token: its relation is [1]) and 7

    static double[] random(Random r, int n, double sigma) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = sigma * r.nextGaussian();
        return x;
    }

    /** The loss straight from the definition, sharing no code with {@link RelationLoss}. */
    static double reference(double[] t, int th, double[] s, int sh, int[] off, int heads) {
        int tokens = off[off.length - 1];
        double total = 0;
        for (int b = 0; b + 1 < off.length; b++) {
            int n = off[b + 1] - off[b];
            for (int kind = 0; kind < 3; kind++)
                for (int a = 0; a < heads; a++) {
                    double[][] pt = softmaxRelation(t, th, off[b], n, kind, a, heads), ps = softmaxRelation(s, sh, off[b], n, kind, a, heads);
                    for (int i = 0; i < n; i++)
                        for (int j = 0; j < n; j++) total += pt[i][j] * Math.log(pt[i][j] / ps[i][j]);
                }
        }
        return total / (heads * tokens);
    }

    static double[][] softmaxRelation(double[] x, int h, int start, int n, int kind, int a, int heads) {
        int d = h / heads;
        double[][] p = new double[n][n];
        for (int i = 0; i < n; i++) {
            double z = 0;
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int k = 0; k < d; k++) dot += x[(start + i) * 3 * h + kind * h + a * d + k] * x[(start + j) * 3 * h + kind * h + a * d + k];
                z += p[i][j] = Math.exp(dot / Math.sqrt(d));
            }
            for (int j = 0; j < n; j++) p[i][j] /= z;
        }
        return p;
    }

    @Test
    void lossAndGradientAgainstTheDefinitionAndCentralDifferences() {
        Random r = new Random(3);
        int th = 12, sh = 8, heads = 2, tokens = OFFSETS[3];
        double[] t = random(r, tokens * 3 * th, 0.8), s = random(r, tokens * 3 * sh, 0.8);
        double[] grad = new double[s.length];
        double loss = RelationLoss.compute(t, th, s, sh, OFFSETS, heads, grad, 2);
        double ref = reference(t, th, s, sh, OFFSETS, heads);
        assertTrue(ref > 0.05, "the random pair should be far apart: " + ref);
        assertEquals(ref, loss, 1e-12 * Math.max(1, ref));
        double step = 1e-6, scale = 0;
        for (double g : grad) scale = Math.max(scale, Math.abs(g));
        assertTrue(scale > 1e-3, "gradient scale " + scale);
        double worst = 0;
        for (int i = 0; i < s.length; i++) {
            double keep = s[i];
            s[i] = keep + step;
            double plus = reference(t, th, s, sh, OFFSETS, heads);
            s[i] = keep - step;
            double minus = reference(t, th, s, sh, OFFSETS, heads);
            s[i] = keep;
            double num = (plus - minus) / (2 * step);
            worst = Math.max(worst, Math.abs(num - grad[i]) / (1e-7 * scale + 1e-6 * Math.abs(num)));
        }
        assertTrue(worst <= 1, "worst gradient entry at " + worst + " of the tolerance");
        // the single-token sequence (row 5) has one relation [1] whatever its vectors: no gradient
        for (int c = 0; c < 3 * sh; c++) assertEquals(0.0, grad[5 * 3 * sh + c], "single-token sequence, column " + c);
    }

    @Test
    void theFloat32EntryAddsTheSameGradient() {
        Random r = new Random(4);
        int h = 8, heads = 4, tokens = OFFSETS[3];
        float[] t = new float[tokens * 3 * h], s = new float[t.length], g = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) r.nextGaussian();
            s[i] = (float) r.nextGaussian();
            g[i] = 0.5f;   // pre-filled: the entry adds
        }
        double[] td = new double[t.length], sd = new double[s.length], gd = new double[s.length];
        for (int i = 0; i < t.length; i++) {
            td[i] = t[i];
            sd[i] = s[i];
        }
        double lf = RelationLoss.compute(t, h, s, h, OFFSETS, heads, g, 1), ld = RelationLoss.compute(td, h, sd, h, OFFSETS, heads, gd, 1);
        assertEquals(ld, lf, 0);
        for (int i = 0; i < g.length; i++) assertEquals((float) (0.5 + gd[i]), g[i], 1e-6f, "entry " + i);
    }

    @Test
    void zeroLossAndZeroGradientWhenTheStudentIsTheTeacher() {
        Random r = new Random(5);
        int h = 12, tokens = OFFSETS[3];
        double[] t = random(r, tokens * 3 * h, 1.0), g = new double[t.length];
        assertEquals(0.0, RelationLoss.compute(t, h, t.clone(), h, OFFSETS, 3, g, 2), 1e-15);
        for (double v : g) assertEquals(0.0, v, 1e-15);
        // and a wrong student is not at zero
        double[] s = t.clone();
        s[7] += 0.5;
        assertTrue(RelationLoss.compute(t, h, s, h, OFFSETS, 3, null, 1) > 1e-6);
    }

    @Test
    void badShapesNameTheArgument() {
        double[] t = new double[13 * 3 * 12], s = new double[13 * 3 * 8];
        assertMessage("relationHeads", () -> RelationLoss.compute(t, 12, s, 8, OFFSETS, 3, null, 1));
        assertMessage("relationHeads", () -> RelationLoss.compute(t, 12, s, 8, OFFSETS, 0, null, 1));
        assertMessage("student", () -> RelationLoss.compute(t, 12, new double[5], 8, OFFSETS, 2, null, 1));
        assertMessage("teacher", () -> RelationLoss.compute(new double[5], 12, s, 8, OFFSETS, 2, null, 1));
        assertMessage("offsets", () -> RelationLoss.compute(t, 12, s, 8, new int[] {0, 5, 5, 13}, 2, null, 1));
        assertMessage("dStudent", () -> RelationLoss.compute(t, 12, s, 8, OFFSETS, 2, new double[3], 1));
    }

    static void assertMessage(String name, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().startsWith(name + ":"), ex.getMessage());
    }
}
