package org.attn4j.explain.gradient;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.attn4j.explain.analysis.AttentionFlow;
import org.attn4j.explain.analysis.AttentionRollout;
import org.attn4j.explain.analysis.HeadImportance;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.bert.BertGrad;
import org.attn4j.models.embed.Embedder;

/**
 * Token attributions by gradient through the encoder's backward ({@link BertGrad}), next to the
 * attention-only ones, and their faithfulness.
 *
 * <p>An {@link Example} is one text (objective {@link Objective.Kind#SELF} or
 * {@link Objective.Kind#TARGET}) or a pair of texts encoded as two sequences (objective
 * {@link Objective.Kind#PAIR}). Token scores are {@code double[]} over the example's tokens in order
 * (the first text's, [CLS] and [SEP] included, then the second's). Higher means "supports f more".
 *
 * <ul>
 *   <li>{@link Method#GRAD_INPUT}: Σ_c x_tc·∂f/∂x_tc over token t's word-embedding vector x_t.</li>
 *   <li>{@link Method#IG}: integrated gradients (Sundararajan et al. 2017) from the baseline in which
 *       every token but [CLS] and [SEP] has the [PAD] word vector, along the straight line, by the
 *       trapezoid rule over {@code steps} intervals (all points in one batched pass). Completeness:
 *       Σ_t attribution_t = f(x) − f(baseline) up to the quadrature error, reported as the gap.</li>
 *   <li>{@link Method#RELEVANCE}: Chefer, Gur and Wolf (ICCV 2021), per sequence: R = I, then for each
 *       layer bottom to top R ← R + Ā·R with Ā = mean over heads of max(0, ∂f/∂A ⊙ A); the token
 *       scores are R's [CLS] row for CLS pooling, the mean of its rows for mean pooling (every output
 *       token enters the embedding equally).</li>
 *   <li>{@link Method#GIM}: gradient × input under GIM's gradient modifications ({@link #gim}).</li>
 *   <li>{@link Method#ATTENTION}, {@link Method#ROLLOUT}, {@link Method#FLOW}: the last layer's
 *       head-averaged attention, rollout and flow, read off the same row(s) as relevance.</li>
 *   <li>{@link Method#HEAD_GRAD}: |∂f/∂ξ_h| per head (Michel et al.), not a token score.</li>
 * </ul>
 */
public final class GradientExplainer {
    /** The methods, with the names the command line uses. */
    public enum Method {
        ATTENTION("attention"), ROLLOUT("rollout"), FLOW("flow"), GRAD_INPUT("grad-input"), IG("ig"), RELEVANCE("relevance"), GIM("gim"), HEAD_GRAD("head-grad");

        public final String id;

        Method(String id) { this.id = id; }

        /** Whether the method scores tokens (all but head-grad). */
        public boolean scoresTokens() { return this != HEAD_GRAD; }

        /** The method named {@code id} (case-insensitive). */
        public static Method parse(String id) {
            for (Method m : values()) if (m.id.equalsIgnoreCase(id.trim())) return m;
            throw new IllegalArgumentException("--methods: expected some of " + Arrays.stream(values()).map(m -> m.id).toList() + ", or all, default or none, got '" + id + "'");
        }
    }

    /**
     * A tokenised example.
     *
     * @param ids       token ids per sequence (1 or 2 sequences)
     * @param tokens    token strings per sequence
     * @param objective what is explained
     */
    public record Example(int[][] ids, String[][] tokens, Objective objective) {
        /** All tokens, the sequences one after the other. */
        public String[] flatTokens() {
            List<String> all = new ArrayList<>();
            for (String[] t : tokens) all.addAll(List.of(t));
            return all.toArray(String[]::new);
        }

        /** Total tokens. */
        public int size() {
            int n = 0;
            for (int[] s : ids) n += s.length;
            return n;
        }

        /** Whether flat position i is a sequence's first or last token ([CLS], [SEP]): never deleted, not baselined. */
        public boolean special(int i) {
            for (int[] s : ids) {
                if (i < s.length) return i == 0 || i == s.length - 1;
                i -= s.length;
            }
            throw new IndexOutOfBoundsException(i);
        }
    }

    /** Integrated gradients' result: scores, f(x), f(baseline), steps and |Σ scores − (f(x) − f(baseline))| / |f(x) − f(baseline)|. */
    public record IgResult(double[] scores, double value, double baselineValue, int steps, double completenessGap) {}

    /**
     * f after each deletion step (from f(x) to f(all replaced)) and each insertion step (the
     * reverse), and their areas (trapezoid over the fraction of tokens, in units of f). The values
     * are not normalised: for a pair, f with every token replaced is the cosine of two [PAD]
     * sequences, close to 1, so a normalisation by f(x) − f(baseline) would divide by a small or
     * negative number.
     */
    public record Curves(double[] deletion, double[] insertion, double deletionAuc, double insertionAuc) {}

    private final Embedder model;
    private final BertGrad grad;
    private final BertConfig cfg;
    private final int threads;

    /** An explainer over {@code model} (its weights are copied once into a {@link BertGrad}). */
    public GradientExplainer(Embedder model, int threads) {
        this.model = model;
        this.grad = new BertGrad(model.encoder());
        this.cfg = model.encoder().config();
        this.threads = threads;
    }

    public BertConfig config() { return cfg; }

    /**
     * The example for {@code text}: with {@code pair}, the pair objective; else with {@code target},
     * the target objective; else the self objective. Texts are truncated at 128 tokens.
     */
    public Example example(String text, String pair, String target) {
        if (text == null) throw new IllegalArgumentException("text: expected a text, got null");
        if (pair != null && target != null) throw new IllegalArgumentException("--target: not with --pair (the pair's cosine is the objective)");
        var tok = model.tokenizer();
        int max = Math.min(128, cfg.maxPositions());
        if (pair != null) {
            var a = tok.encode(text, max);
            var b = tok.encode(pair, max);
            return new Example(new int[][] {a.ids(), b.ids()}, new String[][] {a.tokens(), b.tokens()}, Objective.pair());
        }
        var a = tok.encode(text, max);
        Objective obj = target == null ? Objective.self(pooled(a.ids())) : Objective.target(pooled(tok.encode(target, max).ids()));
        return new Example(new int[][] {a.ids()}, new String[][] {a.tokens()}, obj);
    }

    /** The pooled pre-normalisation embedding of one sequence of ids. */
    public float[] pooled(int[] ids) {
        BertEncoder.Output out = model.encoder().forward(new int[][] {ids}, null, threads);
        return BertGrad.pool(out.hidden(), 0, ids.length, cfg.hidden(), cfg.pooling());
    }

    // ---- evaluation of f on batches ----

    /** The example's word vectors, per sequence. */
    private float[][] words(Example ex) {
        return grad.input(ex.ids(), null).words();
    }

    /** A differentiable pass over several points (word vectors per sequence) of one example. */
    private record Points(BertGrad.Pass pass, double[] values, BertGrad.Gradients gradients) {}

    private Points run(Example ex, List<float[][]> points, boolean backward) {
        return run(ex, points, backward, BertGrad.Rules.EXACT);
    }

    private Points run(Example ex, List<float[][]> points, boolean backward, BertGrad.Rules rules) {
        int s = ex.objective().sequences(), h = cfg.hidden();
        float[][] all = new float[points.size() * s][];
        for (int k = 0; k < points.size(); k++) for (int q = 0; q < s; q++) all[k * s + q] = points.get(k)[q];
        BertGrad.Pass pass = grad.forward(new BertGrad.Input(all, null, null), null, threads);
        int[] off = pass.offsets();
        double[] values = new double[points.size()];
        float[] dHidden = backward ? new float[off[all.length] * h] : null;
        for (int k = 0; k < points.size(); k++) {
            float[][] pooled = new float[s][];
            for (int q = 0; q < s; q++) pooled[q] = pass.pooled(k * s + q, cfg.pooling());
            values[k] = ex.objective().value(pooled);
            if (backward) {
                float[][] dp = ex.objective().gradient(pooled);
                for (int q = 0; q < s; q++) BertGrad.poolBackward(dp[q], off[k * s + q], pass.length(k * s + q), h, cfg.pooling(), dHidden);
            }
        }
        return new Points(pass, values, backward ? pass.backward(dHidden, false, rules) : null);
    }

    /** f of the example with the tokens of {@code ids} (per state, per sequence), batched on the encoder's fast path. */
    double[] values(Example ex, List<int[][]> states) {
        int s = ex.objective().sequences(), h = cfg.hidden();
        int[][] all = new int[states.size() * s][];
        for (int k = 0; k < states.size(); k++) for (int q = 0; q < s; q++) all[k * s + q] = states.get(k)[q];
        BertEncoder.Output out = model.encoder().forward(all, null, threads);
        double[] v = new double[states.size()];
        for (int k = 0; k < states.size(); k++) {
            float[][] pooled = new float[s][];
            for (int q = 0; q < s; q++) pooled[q] = BertGrad.pool(out.hidden(), out.offsets()[k * s + q], out.length(k * s + q), h, cfg.pooling());
            v[k] = ex.objective().value(pooled);
        }
        return v;
    }

    /** f at given word vectors (per sequence) of the example; for checks by finite differences. */
    double valueAt(Example ex, float[][] words) {
        return run(ex, java.util.Collections.singletonList(words), false).values()[0];
    }

    /** The example's word vectors, per sequence (copies). */
    float[][] wordVectors(Example ex) {
        return words(ex);
    }

    /** f at the example itself. */
    public double value(Example ex) {
        return values(ex, java.util.Collections.singletonList(ex.ids()))[0];
    }

    // ---- gradient methods ----

    /** Gradient × input on the word-embedding vectors. */
    public double[] gradientTimesInput(Example ex) {
        float[][] x = words(ex);
        Points p = run(ex, java.util.Collections.singletonList(x), true);
        return perToken(ex, x, null, new float[][][] {p.gradients().words()}, new double[] {1});
    }

    /**
     * GIM (Edin et al. 2025): gradient × input with the gradient taken under {@link BertGrad.Rules#GIM}
     * (frozen LayerNorm scale, softmax backward at temperature 2, Q and K gradients × 0.25, V × 0.5).
     */
    public double[] gim(Example ex) {
        float[][] x = words(ex);
        Points p = run(ex, java.util.Collections.singletonList(x), true, BertGrad.Rules.GIM);
        return perToken(ex, x, null, new float[][][] {p.gradients().words()}, new double[] {1});
    }

    /** Σ_c (x − x')_tc · Σ_k w_k g_k,tc per token; x' = null means 0. */
    private double[] perToken(Example ex, float[][] x, float[][] baseline, float[][][] grads, double[] weights) {
        int h = cfg.hidden();
        double[] scores = new double[ex.size()];
        int at = 0;
        for (int q = 0; q < x.length; q++) {
            int n = x[q].length / h;
            for (int t = 0; t < n; t++) {
                double sum = 0;
                for (int c = 0; c < h; c++) {
                    double g = 0;
                    for (int k = 0; k < grads.length; k++) g += weights[k] * grads[k][q][t * h + c];
                    sum += (x[q][t * h + c] - (baseline == null ? 0 : baseline[q][t * h + c])) * g;
                }
                scores[at + t] = sum;
            }
            at += n;
        }
        return scores;
    }

    /** The [PAD]-vector baseline of the example ([CLS] and [SEP] kept). */
    private float[][] baseline(Example ex) {
        float[][] x = words(ex);
        float[] pad = grad.wordEmbedding(model.tokenizer().padId());
        int h = cfg.hidden();
        for (float[] seq : x) {
            int n = seq.length / h;
            for (int t = 1; t < n - 1; t++) System.arraycopy(pad, 0, seq, t * h, h);
        }
        return x;
    }

    /** Integrated gradients with {@code steps} trapezoid intervals (≥ 1). */
    public IgResult integratedGradients(Example ex, int steps) {
        if (steps < 1) throw new IllegalArgumentException("--ig-steps: expected >= 1, got " + steps);
        float[][] x = words(ex), base = baseline(ex);
        List<float[][]> points = new ArrayList<>();
        double[] weights = new double[steps + 1];
        for (int k = 0; k <= steps; k++) {
            float a = (float) k / steps;
            float[][] pt = new float[x.length][];
            for (int q = 0; q < x.length; q++) {
                pt[q] = new float[x[q].length];
                for (int i = 0; i < pt[q].length; i++) pt[q][i] = base[q][i] + a * (x[q][i] - base[q][i]);
            }
            points.add(pt);
            weights[k] = (k == 0 || k == steps ? 0.5 : 1.0) / steps;
        }
        Points p = run(ex, points, true);
        int s = x.length;
        float[][][] grads = new float[steps + 1][s][];
        for (int k = 0; k <= steps; k++) for (int q = 0; q < s; q++) grads[k][q] = p.gradients().words()[k * s + q];
        double[] scores = perToken(ex, x, base, grads, weights);
        double fx = p.values()[steps], fb = p.values()[0], sum = 0;
        for (double v : scores) sum += v;
        double gap = Math.abs(sum - (fx - fb)) / Math.abs(fx - fb);
        return new IgResult(scores, fx, fb, steps, gap);
    }

    /** Chefer et al.'s gradient-weighted relevance (see the class comment). */
    public double[] relevance(Example ex) {
        Points p = run(ex, java.util.Collections.singletonList(words(ex)), true);
        double[] scores = new double[ex.size()];
        int at = 0;
        for (int q = 0; q < ex.ids().length; q++) {
            int n = ex.ids()[q].length;
            float[][] a = new float[cfg.layers()][], g = new float[cfg.layers()][];
            for (int l = 0; l < cfg.layers(); l++) {
                a[l] = p.pass().probabilities(l, q);
                g[l] = p.gradients().probs()[l][q];
            }
            System.arraycopy(readRow(relevanceMatrix(a, g, cfg.heads(), n)), 0, scores, at, n);
            at += n;
        }
        return scores;
    }

    /**
     * The relevance rule on one sequence: R = I; for l = 0..L−1, R ← R + Ā_l·R with
     * Ā_l = mean over heads of max(0, grads[l] ⊙ probs[l]).
     *
     * @param probs per layer, attention probabilities {@code [heads][n][n]}
     * @param grads per layer, ∂f/∂probs, same layout
     * @return R, {@code [n][n]}
     */
    public static double[][] relevanceMatrix(float[][] probs, float[][] grads, int heads, int n) {
        double[][] r = new double[n][n];
        for (int i = 0; i < n; i++) r[i][i] = 1;
        for (int l = 0; l < probs.length; l++) {
            if (probs[l].length != heads * n * n || grads[l].length != heads * n * n) {
                throw new IllegalArgumentException("probs[" + l + "], grads[" + l + "]: expected [heads=" + heads + "][n=" + n + "][n] = " + heads * n * n
                        + " values, got " + probs[l].length + " and " + grads[l].length);
            }
            double[][] bar = new double[n][n];
            for (int hh = 0; hh < heads; hh++)
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++) {
                        int idx = (hh * n + i) * n + j;
                        bar[i][j] += Math.max(0, (double) probs[l][idx] * grads[l][idx]) / heads;
                    }
            double[][] next = new double[n][n];
            for (int i = 0; i < n; i++)
                for (int k = 0; k < n; k++) {
                    if (bar[i][k] == 0) continue;
                    for (int j = 0; j < n; j++) next[i][j] += bar[i][k] * r[k][j];
                }
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) r[i][j] += next[i][j];
        }
        return r;
    }

    /** The [CLS] row (CLS pooling) or the mean of the rows (mean pooling) of a token × token matrix. */
    private double[] readRow(double[][] m) {
        int n = m.length;
        if (cfg.pooling() == BertConfig.Pooling.CLS) return m[0].clone();
        double[] row = new double[n];
        for (double[] r : m) for (int j = 0; j < n; j++) row[j] += r[j] / n;
        return row;
    }

    /** |∂f/∂ξ_h| for every head of the example (summed over its sequences before the absolute value), {@code [layers][heads]}. */
    public double[][] headGradient(Example ex) {
        Points p = run(ex, java.util.Collections.singletonList(words(ex)), true);
        double[][] out = new double[cfg.layers()][cfg.heads()];
        for (double[][] seq : p.gradients().gates()) for (int l = 0; l < out.length; l++) for (int h = 0; h < out[l].length; h++) out[l][h] += seq[l][h];
        for (double[] row : out) for (int h = 0; h < row.length; h++) row[h] = Math.abs(row[h]);
        return out;
    }

    /** Attention-only scores: {@code kind} is ATTENTION, ROLLOUT or FLOW. */
    public double[] attentionScores(Example ex, Method kind) {
        BertGrad.Pass pass = run(ex, java.util.Collections.singletonList(words(ex)), false).pass();
        double[] scores = new double[ex.size()];
        int at = 0;
        for (int q = 0; q < ex.ids().length; q++) {
            int n = ex.ids()[q].length, heads = cfg.heads();
            double[][][][] att = new double[cfg.layers()][heads][n][n];
            for (int l = 0; l < cfg.layers(); l++) {
                float[] p = pass.probabilities(l, q);
                for (int hh = 0; hh < heads; hh++) for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) att[l][hh][i][j] = p[(hh * n + i) * n + j];
            }
            double[][] m = switch (kind) {
                case ATTENTION -> AttentionRollout.fuseHeads(att[cfg.layers() - 1], AttentionRollout.HeadFusion.MEAN);
                case ROLLOUT -> AttentionRollout.rollout(att, AttentionRollout.HeadFusion.MEAN);
                case FLOW -> AttentionFlow.flow(att, AttentionRollout.HeadFusion.MEAN);
                default -> throw new IllegalArgumentException("kind: expected attention, rollout or flow, got " + kind.id);
            };
            System.arraycopy(readRow(m), 0, scores, at, n);
            at += n;
        }
        return scores;
    }

    /** The scores of a token method. */
    public double[] scores(Example ex, Method m, int igSteps) {
        return switch (m) {
            case GRAD_INPUT -> gradientTimesInput(ex);
            case IG -> integratedGradients(ex, igSteps).scores();
            case RELEVANCE -> relevance(ex);
            case GIM -> gim(ex);
            case ATTENTION, ROLLOUT, FLOW -> attentionScores(ex, m);
            case HEAD_GRAD -> throw new IllegalArgumentException("method: head-grad scores heads, not tokens");
        };
    }

    // ---- the A×B pair view ----

    /**
     * The A×B token attribution of a pair under mean pooling: with a_i (i &lt; n_A) and b_j (j &lt; n_B)
     * the encoder's output token states of the two sequences, p_A = Σ_i a_i / n_A and p_B likewise,
     * the cosine f = p_A·p_B / (‖p_A‖‖p_B‖) splits exactly into
     * M[i][j] = a_i·b_j / (n_A·n_B·‖p_A‖·‖p_B‖), so Σ_ij M[i][j] = f. Entry (i, j) is how much the
     * pair (token i of A, token j of B) adds to the cosine; row i's sum is a_i's projection on B's
     * unit embedding over n_A. The states are contextual (each already mixes its whole sentence), so
     * the view tells which output positions carry the agreement, not which input words cause it.
     *
     * @return {@code [n_A][n_B]}, or null when the model pools the [CLS] state (then p_A = a_0 and
     *         the whole cosine sits in the single cell ([CLS], [CLS]): there is nothing to split)
     * @throws IllegalArgumentException naming {@code example} when it is not a pair
     */
    public double[][] pairMatrix(Example ex) {
        if (ex.objective().kind() != Objective.Kind.PAIR) {
            throw new IllegalArgumentException("example: expected a pair (objective pair), got objective " + ex.objective().kind().name().toLowerCase(Locale.ROOT));
        }
        if (cfg.pooling() != BertConfig.Pooling.MEAN) return null;
        BertEncoder.Output out = model.encoder().forward(ex.ids(), null, threads);
        return pairMatrix(out.hidden(), out.offsets()[0], out.length(0), out.offsets()[1], out.length(1), cfg.hidden());
    }

    /**
     * {@link #pairMatrix(Example)} on given states: rows [startA, startA + nA) and [startB, startB + nB)
     * of {@code hidden} ({@code [tokens][h]}, row-major), accumulated in double.
     */
    public static double[][] pairMatrix(float[] hidden, int startA, int nA, int startB, int nB, int h) {
        if (nA < 1 || nB < 1) throw new IllegalArgumentException("nA, nB: expected >= 1 tokens each, got " + nA + " and " + nB);
        if ((long) Math.max(startA + nA, startB + nB) * h > hidden.length) {
            throw new IllegalArgumentException("hidden: expected at least " + (long) Math.max(startA + nA, startB + nB) * h + " values, got " + hidden.length);
        }
        double[] pa = new double[h], pb = new double[h];
        for (int i = 0; i < nA; i++) for (int c = 0; c < h; c++) pa[c] += hidden[(startA + i) * h + c] / (double) nA;
        for (int j = 0; j < nB; j++) for (int c = 0; c < h; c++) pb[c] += hidden[(startB + j) * h + c] / (double) nB;
        double na = 0, nb = 0;
        for (int c = 0; c < h; c++) {
            na += pa[c] * pa[c];
            nb += pb[c] * pb[c];
        }
        double scale = 1 / ((double) nA * nB * Math.sqrt(na) * Math.sqrt(nb));
        if (!Double.isFinite(scale)) scale = 0; // a zero embedding: cosine taken as 0, like BertGrad.normalise
        double[][] m = new double[nA][nB];
        for (int i = 0; i < nA; i++)
            for (int j = 0; j < nB; j++) {
                double d = 0;
                for (int c = 0; c < h; c++) d += (double) hidden[(startA + i) * h + c] * hidden[(startB + j) * h + c];
                m[i][j] = d * scale;
            }
        return m;
    }

    // ---- faithfulness ----

    /** Non-special positions, highest score first (ties by position). */
    static int[] order(Example ex, double[] scores) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < ex.size(); i++) if (!ex.special(i)) idx.add(i);
        idx.sort((a, b) -> scores[a] != scores[b] ? Double.compare(scores[b], scores[a]) : Integer.compare(a, b));
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Deletion and insertion curves for the order {@code scores} ranks tokens in: deletion replaces
     * the top-k tokens by [PAD] for k = 0..K (K = non-special tokens); insertion starts from all K
     * replaced and restores the top-k. A faithful order has a small deletion area (f falls fast)
     * and a large insertion area (f comes back fast).
     */
    public Curves curves(Example ex, double[] scores) {
        if (scores.length != ex.size()) throw new IllegalArgumentException("scores: expected " + ex.size() + " entries, got " + scores.length);
        int[] order = order(ex, scores);
        int k = order.length;
        if (k == 0) throw new IllegalArgumentException("text: no token besides [CLS] and [SEP] to delete");
        int pad = model.tokenizer().padId();
        List<int[][]> states = new ArrayList<>();
        for (int del = 0; del <= 1; del++) {
            for (int step = 0; step <= k; step++) {
                boolean[] gone = new boolean[ex.size()];
                if (del == 1) for (int i = 0; i < step; i++) gone[order[i]] = true;
                else {
                    for (int i : order) gone[i] = true;
                    for (int i = 0; i < step; i++) gone[order[i]] = false;
                }
                int[][] ids = new int[ex.ids().length][];
                int at = 0;
                for (int q = 0; q < ids.length; q++) {
                    ids[q] = ex.ids()[q].clone();
                    for (int t = 0; t < ids[q].length; t++) if (gone[at + t]) ids[q][t] = pad;
                    at += ids[q].length;
                }
                states.add(ids);
            }
        }
        double[] f = values(ex, states);
        double[] ins = Arrays.copyOfRange(f, 0, k + 1), dele = Arrays.copyOfRange(f, k + 1, 2 * k + 2);
        return new Curves(dele, ins, auc(dele), auc(ins));
    }

    /** The mean of the curves of {@code seeds} random orders (seeded 0..seeds−1). */
    public Curves randomCurves(Example ex, int seeds) {
        if (seeds < 1) throw new IllegalArgumentException("seeds: expected >= 1, got " + seeds);
        double[] del = null, ins = null;
        for (int s = 0; s < seeds; s++) {
            Random r = new Random(s);
            double[] sc = new double[ex.size()];
            for (int i = 0; i < sc.length; i++) sc[i] = r.nextDouble();
            Curves c = curves(ex, sc);
            if (del == null) {
                del = new double[c.deletion().length];
                ins = new double[c.insertion().length];
            }
            for (int i = 0; i < del.length; i++) {
                del[i] += c.deletion()[i] / seeds;
                ins[i] += c.insertion()[i] / seeds;
            }
        }
        return new Curves(del, ins, auc(del), auc(ins));
    }

    /** Trapezoid area of y over x = i/(n−1) in [0, 1]. */
    static double auc(double[] y) {
        if (y.length == 1) return y[0];
        double s = 0;
        for (int i = 1; i < y.length; i++) s += (y[i - 1] + y[i]) / 2;
        return s / (y.length - 1);
    }

    // ---- head importance ----

    /**
     * Gradient head importance (Michel et al.) over sentences: I_h = mean over sentences of
     * |∂f/∂ξ_h| with f each sentence's self objective, normalised per layer by the L2 norm over the
     * layer's heads, next to {@link org.attn4j.explain.importance.HeadAblation}'s importance on the
     * same sentences and the Spearman correlation of the two (normalised scores, all heads).
     */
    public record HeadComparison(double[][] raw, double[][] normalised, double[][] ablation, double spearman, int sentences) {}

    public HeadComparison headImportance(List<String> sentences) {
        return headImportance(sentences, null);
    }

    /** As {@link #headImportance(List)}, reusing ablation scores already computed on the same sentences (normalised, or null to compute them). */
    public HeadComparison headImportance(List<String> sentences, double[][] ablationNormalised) {
        if (sentences == null || sentences.isEmpty()) throw new IllegalArgumentException("sentences: expected at least one");
        double[][] raw = new double[cfg.layers()][cfg.heads()];
        for (String s : sentences) {
            double[][] g = headGradient(example(s, null, null));
            for (int l = 0; l < raw.length; l++) for (int h = 0; h < raw[l].length; h++) raw[l][h] += g[l][h] / sentences.size();
        }
        double[][] norm = HeadImportance.normalisePerLayer(raw);
        double[][] abl = ablationNormalised != null ? ablationNormalised
                : org.attn4j.explain.importance.HeadAblation.score(model, sentences, null, threads).normalised();
        return new HeadComparison(raw, norm, abl, spearman(flatten(norm), flatten(abl)), sentences.size());
    }

    static double[] flatten(double[][] a) {
        return Arrays.stream(a).flatMapToDouble(Arrays::stream).toArray();
    }

    /** Spearman's rank correlation (average ranks for ties). */
    public static double spearman(double[] a, double[] b) {
        if (a.length != b.length || a.length < 2) throw new IllegalArgumentException("spearman: expected two arrays of equal length >= 2, got " + a.length + " and " + b.length);
        double[] ra = ranks(a), rb = ranks(b);
        double ma = Arrays.stream(ra).average().orElse(0), mb = Arrays.stream(rb).average().orElse(0), num = 0, da = 0, db = 0;
        for (int i = 0; i < ra.length; i++) {
            num += (ra[i] - ma) * (rb[i] - mb);
            da += (ra[i] - ma) * (ra[i] - ma);
            db += (rb[i] - mb) * (rb[i] - mb);
        }
        return num / Math.sqrt(da * db);
    }

    static double[] ranks(double[] x) {
        Integer[] idx = new Integer[x.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (p, q) -> Double.compare(x[p], x[q]));
        double[] r = new double[x.length];
        for (int i = 0; i < idx.length; ) {
            int j = i;
            while (j + 1 < idx.length && x[idx[j + 1]] == x[idx[i]]) j++;
            for (int k = i; k <= j; k++) r[idx[k]] = (i + j) / 2.0 + 1;
            i = j + 1;
        }
        return r;
    }

    /** Formats scores for a one-line strip: token:score pairs. */
    public static String strip(String[] tokens, double[] scores) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < tokens.length; i++) sb.append(i == 0 ? "" : " ").append(tokens[i]).append(String.format(Locale.ROOT, ":%.3f", scores[i]));
        return sb.toString();
    }
}
