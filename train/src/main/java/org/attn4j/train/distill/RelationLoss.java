package org.attn4j.train.distill;

import org.attn4j.core.parallel.Parallel;

/**
 * MiniLMv2's self-attention relation loss (Wang et al., "MiniLMv2: Multi-Head Self-Attention Relation
 * Distillation for Compressing Pretrained Transformers", 2021).
 *
 * <p>For one sequence of n real tokens and one of the three kinds x ∈ {query, key, value}, the
 * vectors of a layer (width H) are re-split into R relation heads of width d = H/R, whatever the
 * model's own attention heads are. Relation head a of x is the row softmax
 * <pre>
 *   Rel[a]ᵢⱼ = softmax_j( xᵢ[a]·xⱼ[a] / √d )          (i, j over the sequence's n tokens)
 * </pre>
 * Teacher and student may differ in width (each uses its own d), never in R. The loss is
 * <pre>
 *   L = Σ_{x ∈ q,k,v} 1/(R·T) Σ_sequences Σ_a Σ_i KL( Rel_teacher[a]ᵢ ‖ Rel_student[a]ᵢ )
 * </pre>
 * with T the batch's real tokens (so every row of every head weighs the same, as the paper's mean
 * over heads and tokens). Its gradient flows into the student's vectors only: with
 * Z = X·Xᵀ/√d the student's logits, ∂L/∂Z = w·(S − T_rel) row by row (w = 1/(R·T)), and
 * ∂L/∂X = (∂L/∂Z + ∂L/∂Zᵀ)·X/√d.
 *
 * <p>Layout of both inputs: packed rows, one per real token ({@code offsets} give each sequence's
 * first row), each row {@code [q (H) | k (H) | v (H)]} as {@code BertGrad.Pass#qkv} returns it.
 * Padding never enters: each softmax runs over its own sequence's tokens. All arithmetic is float64.
 */
public final class RelationLoss {
    private RelationLoss() {}

    /**
     * The loss, and its gradient w.r.t. the student's vectors added into {@code dStudent} (same
     * layout as {@code student}; may be null to skip the gradient).
     *
     * @throws IllegalArgumentException naming the argument when sizes disagree or a width is not a
     *                                  multiple of {@code relationHeads}
     */
    public static double compute(float[] teacher, int teacherHidden, float[] student, int studentHidden, int[] offsets, int relationHeads,
                                 float[] dStudent, int threads) {
        double[] t = widen(teacher), s = widen(student), d = dStudent == null ? null : new double[student.length];
        double loss = compute(t, teacherHidden, s, studentHidden, offsets, relationHeads, d, threads);
        if (d != null) for (int i = 0; i < d.length; i++) dStudent[i] += (float) d[i];
        return loss;
    }

    /** {@link #compute(float[], int, float[], int, int[], int, float[], int)} on float64 inputs (the gradient check's reference). */
    public static double compute(double[] teacher, int teacherHidden, double[] student, int studentHidden, int[] offsets, int relationHeads,
                                 double[] dStudent, int threads) {
        check(teacher.length, teacherHidden, student.length, studentHidden, offsets, relationHeads);
        if (dStudent != null && dStudent.length != student.length) {
            throw new IllegalArgumentException("dStudent: expected " + student.length + " entries like student, got " + dStudent.length);
        }
        int batch = offsets.length - 1, tokens = offsets[batch];
        double weight = 1.0 / ((double) relationHeads * tokens);
        double[] perItem = new double[batch * 3];
        // one item per (sequence, kind): items write disjoint parts of dStudent, losses are summed in order
        Parallel.forEach(Parallel.resolveThreads(threads), batch * 3, x -> null, (item, unused) -> {
            int b = item / 3, kind = item % 3;
            double sum = 0;
            for (int a = 0; a < relationHeads; a++) {
                sum += head(teacher, teacherHidden, student, studentHidden, offsets[b], offsets[b + 1] - offsets[b], kind, a, relationHeads, weight, dStudent);
            }
            perItem[item] = sum;
        });
        double loss = 0;
        for (double v : perItem) loss += v;
        return loss;
    }

    /** One relation head of one kind of one sequence: Σ_i KL(teacher row ‖ student row)·w; adds its gradient. */
    private static double head(double[] t, int th, double[] s, int sh, int start, int n, int kind, int a, int heads, double w, double[] dS) {
        int dt = th / heads, ds = sh / heads;
        int tCol = kind * th + a * dt, sCol = kind * sh + a * ds;
        double[][] pt = relation(t, 3 * th, tCol, dt, start, n), ps = relation(s, 3 * sh, sCol, ds, start, n);
        double kl = 0;
        double[][] dz = dS == null ? null : new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                // a teacher probability that underflowed to 0 contributes 0 (0·log 0 = 0), not NaN
                if (pt[i][j] > 0) kl += pt[i][j] * (Math.log(pt[i][j]) - Math.log(ps[i][j]));
                if (dz != null) dz[i][j] = w * (ps[i][j] - pt[i][j]);
            }
        }
        if (dz != null) {
            double scale = 1 / Math.sqrt(ds);
            int stride = 3 * sh;
            for (int i = 0; i < n; i++) {
                int ri = (start + i) * stride + sCol;
                for (int j = 0; j < n; j++) {
                    double c = (dz[i][j] + dz[j][i]) * scale;
                    if (c == 0) continue;
                    int rj = (start + j) * stride + sCol;
                    for (int k = 0; k < ds; k++) dS[ri + k] += c * s[rj + k];
                }
            }
        }
        return w * kl;
    }

    /** Row-softmax of the scaled dot products of columns [col, col + d) of rows start..start+n. */
    private static double[][] relation(double[] x, int stride, int col, int d, int start, int n) {
        double scale = 1 / Math.sqrt(d);
        double[][] p = new double[n][n];
        for (int i = 0; i < n; i++) {
            int ri = (start + i) * stride + col;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                int rj = (start + j) * stride + col;
                double dot = 0;
                for (int k = 0; k < d; k++) dot += x[ri + k] * x[rj + k];
                p[i][j] = dot * scale;
                max = Math.max(max, p[i][j]);
            }
            double z = 0;
            for (int j = 0; j < n; j++) z += p[i][j] = Math.exp(p[i][j] - max);
            for (int j = 0; j < n; j++) p[i][j] /= z;
        }
        return p;
    }

    private static void check(int tLen, int th, int sLen, int sh, int[] offsets, int heads) {
        if (heads < 1) throw new IllegalArgumentException("relationHeads: expected >= 1, got " + heads);
        if (th < 1 || th % heads != 0) throw new IllegalArgumentException("relationHeads: teacher width " + th + " is not a multiple of " + heads);
        if (sh < 1 || sh % heads != 0) throw new IllegalArgumentException("relationHeads: student width " + sh + " is not a multiple of " + heads);
        if (offsets == null || offsets.length < 2 || offsets[0] != 0) throw new IllegalArgumentException("offsets: expected [0, ...] with at least one sequence");
        for (int b = 1; b < offsets.length; b++) {
            if (offsets[b] <= offsets[b - 1]) throw new IllegalArgumentException("offsets: sequence " + (b - 1) + " is empty or offsets decrease");
        }
        int tokens = offsets[offsets.length - 1];
        if (tLen != tokens * 3 * th) throw new IllegalArgumentException("teacher: expected [T=" + tokens + "][3·" + th + "] = " + tokens * 3 * th + " floats, got " + tLen);
        if (sLen != tokens * 3 * sh) throw new IllegalArgumentException("student: expected [T=" + tokens + "][3·" + sh + "] = " + tokens * 3 * sh + " floats, got " + sLen);
    }

    private static double[] widen(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }
}
