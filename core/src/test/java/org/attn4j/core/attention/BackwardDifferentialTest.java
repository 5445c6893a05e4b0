package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The tiled fp32 backward against the float64 reference backward on randomised problems: odd N,
 * N on and around the block size, D = 13 and 128, Nq ≠ Nk, Nq = 1, GQA and MQA, strided views of
 * q/k/v/out/dOut (and of the bias), 1, 2 and 3 threads, every mask form, logits of ±1e4, and
 * both a full and a broadcast dBias.
 *
 * <p>Tolerance, per element: |flash − ref| ≤ C·bound + 2u·|ref| + 1e-30 with C = {@value #C},
 * u = 2^-24 and bound = {@link BackwardChecks#errorBounds}: the first-order error that fp32
 * arithmetic and the saved forward state (the fp32 output and log-sum-exp from which the tiled
 * backward recomputes P) can cause, Σ of |terms| × u plus |lse − lse64| and |O − O64| propagated;
 * 1e-30 covers probabilities lost to fp32 underflow ({@link BackwardChecks#UNDERFLOW}). It is the
 * componentwise error bound of any plain fp32 implementation; C absorbs the growth with the length
 * of the fp32 sums (a few hundred terms here, summed in blocks). For O(1) inputs the largest
 * deviation it allows is 1e-5 to 5e-5 of the largest gradient (PyTorch checks fp32 at atol 1e-5 +
 * rtol 1.3e-6, and its SDPA gradient tests at a fudge factor times the deviation of an fp32 math
 * implementation), and much less on small elements. At logits of ±1e4 it grows with the ulp of
 * the lse (1e-3 relative in P, which no kernel that recomputes P from an fp32 lse can avoid) and
 * with u·|Q| for dK (|Q| ~ 60 there). Where P is 0 (masked keys, rows that see nothing, padded
 * rows) the bound is 0 and the kernel must be exact. The worst ratio |flash − ref| / bound observed
 * over these cases is 1.6, so C = 8 leaves a margin of 5; a relative error of 1e-5 in dQ alone
 * fails 10 of the 46 cases.
 */
class BackwardDifferentialTest {
    static final double C = 8;
    static final int[] N = {1, 2, 7, 33, 95, 96, 97, 150, 193, 250};
    static final int[] DIMS = {1, 5, 13, 13, 64, 128};
    static final int[][] HEADS = {{1, 1}, {2, 2}, {4, 2}, {4, 1}, {3, 1}};
    /** Upper bound on B·Hq·Nq·Nk·(D+Dv) per case so the float64 oracle and the bound stay quick. */
    static final double COST_CAP = 4e6;
    static final int CASES = 42;

    enum Form { NONE, CAUSAL_TOP_LEFT, CAUSAL_BOTTOM_RIGHT, WINDOW, KV_LENGTHS, Q_LENGTHS, MASK, BIAS, DBIAS_FULL, DBIAS_BROADCAST,
        ALIBI, ALIBI_SLOPES, SOFTCAP, SCALE }

    record Case(int seed, int b, int hq, int hkv, int nq, int nk, int d, int dv, AttentionSpec spec, boolean strided, boolean extreme,
                String label) {
        @Override
        public String toString() {
            return "seed=" + seed + " B=" + b + " Hq=" + hq + " Hkv=" + hkv + " Nq=" + nq + " Nk=" + nk + " D=" + d + " Dv=" + dv + " " + label;
        }
    }

    @TestFactory
    Stream<DynamicTest> tiledBackwardMatchesReference() {
        List<Case> cases = new ArrayList<>();
        for (int seed = 1; cases.size() < CASES; seed++) {
            Case c = randomCase(seed, Form.values()[cases.size() % Form.values().length]);
            if (c != null) cases.add(c);
        }
        cases.addAll(fixedCases());
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> check(c)));
    }

    /** Shapes that must be there whatever the random draw: D = 13 and 128 over several key blocks, Nq = 1, MQA with a long sequence. */
    static List<Case> fixedCases() {
        return List.of(
                new Case(9001, 1, 2, 1, 193, 250, 13, 13, AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).build(), true, false, "fixed D=13"),
                new Case(9002, 1, 1, 1, 97, 193, 128, 128, AttentionSpec.builder().build(), false, false, "fixed D=128"),
                new Case(9003, 2, 4, 1, 1, 250, 64, 32, AttentionSpec.builder().kvLengths(250, 101).build(), true, false, "fixed Nq=1 MQA"),
                new Case(9004, 1, 4, 2, 150, 150, 64, 64, AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).build(), false, true,
                        "fixed extreme-logits causal"));
    }

    static Case randomCase(int seed, Form forced) {
        Random r = new Random(seed * 104729L + forced.ordinal());
        int b = 1 + r.nextInt(2);
        int[] heads = HEADS[r.nextInt(HEADS.length)];
        int nq = N[r.nextInt(N.length)], nk = N[r.nextInt(N.length)];
        int d = DIMS[r.nextInt(DIMS.length)], dv = r.nextInt(3) == 0 ? DIMS[r.nextInt(DIMS.length)] : d;
        while ((double) b * heads[0] * nq * nk * (d + dv) > COST_CAP && (b > 1 || heads[0] > 1)) {
            if (b > 1) b--;
            else heads = new int[] {1, 1};
        }
        if ((double) b * heads[0] * nq * nk * (d + dv) > COST_CAP) return null;
        int hq = heads[0];
        boolean extreme = r.nextInt(6) == 0;
        AttentionSpec.Builder s = AttentionSpec.builder();
        List<String> label = new ArrayList<>();
        Random mr = new Random(seed * 31L + 7);
        for (Form f : Form.values()) {
            if (f == Form.NONE || (f != forced && r.nextInt(6) != 0)) continue;
            switch (f) {
                case CAUSAL_TOP_LEFT -> s.causal(CausalAlignment.TOP_LEFT);
                case CAUSAL_BOTTOM_RIGHT -> s.causal(CausalAlignment.BOTTOM_RIGHT);
                case WINDOW -> {
                    int left = r.nextInt(3) == 0 ? AttentionSpec.UNBOUNDED : r.nextInt(Math.max(1, nk));
                    int right = r.nextInt(3) == 0 ? AttentionSpec.UNBOUNDED : r.nextInt(Math.max(1, nk / 2 + 1));
                    s.window(left, right);
                    label.add("window=" + left + "," + right);
                }
                case KV_LENGTHS -> {
                    int[] len = new int[b];
                    for (int i = 0; i < b; i++) len[i] = r.nextInt(6) == 0 ? 0 : 1 + r.nextInt(nk);
                    s.kvLengths(len);
                    label.add("kvLengths=" + Arrays.toString(len));
                }
                case Q_LENGTHS -> {
                    int[] len = new int[b];
                    for (int i = 0; i < b; i++) len[i] = r.nextInt(nq + 1);
                    s.qLengths(len);
                    label.add("qLengths=" + Arrays.toString(len));
                }
                case MASK -> {
                    int[][] shapes = {{b, hq, nq, nk}, {nq, nk}, {b, 1, 1, nk}, {1, hq, nq, 1}, {nk}};
                    int[] shape = shapes[r.nextInt(shapes.length)];
                    s.mask(BackwardChecks.mask(mr, 0.75, shape));
                    label.add("mask" + Arrays.toString(shape));
                }
                case BIAS, DBIAS_FULL, DBIAS_BROADCAST -> {
                    if (label.stream().anyMatch(l -> l.contains("bias"))) break;
                    int[][] shapes = f == Form.DBIAS_FULL ? new int[][] {{b, hq, nq, nk}}
                            : f == Form.DBIAS_BROADCAST ? new int[][] {{nq, nk}, {1, hq, 1, nk}, {b, 1, nq, nk}, {1, hq, nq, 1}, {nk}}
                            : new int[][] {{b, hq, nq, nk}, {nq, nk}, {1, hq, 1, nk}};
                    int[] shape = shapes[r.nextInt(shapes.length)];
                    Tensor bias = BackwardChecks.bias(mr, 2, r.nextBoolean() ? 0.1 : 0, shape);
                    if (extreme) roundToIntegers(bias);
                    boolean grad = f != Form.BIAS;
                    s.bias(bias, grad);
                    label.add((grad ? "dbias" : "bias") + Arrays.toString(shape));
                }
                case ALIBI -> s.alibi(true);
                case ALIBI_SLOPES -> {
                    float[] slopes = new float[hq];
                    for (int h = 0; h < hq; h++) slopes[h] = (float) Math.scalb(1.0, -r.nextInt(9));
                    s.alibiSlopes(slopes);
                }
                case SOFTCAP -> s.softcap(5f + r.nextInt(30));
                case SCALE -> s.scale(0.05f + r.nextFloat());
                default -> { }
            }
            if (f != Form.WINDOW && f != Form.KV_LENGTHS && f != Form.Q_LENGTHS && f != Form.MASK && f != Form.BIAS
                    && f != Form.DBIAS_FULL && f != Form.DBIAS_BROADCAST) {
                label.add(f.name().toLowerCase());
            }
        }
        if (extreme) {
            // As in KernelDifferentialTest: integer inputs and a power-of-two scale make logits of
            // ±1e4 exact in fp32, so what is tested is the backward's handling of that magnitude.
            double sigmaLogit = KernelDifferentialTest.EXTREME_Q * KernelDifferentialTest.EXTREME_K * Math.sqrt(d);
            s.scale((float) Math.pow(2, Math.floor(Math.log(1e4 / (4 * sigmaLogit)) / Math.log(2))));
            label.add("extreme-logits");
        }
        boolean strided = r.nextInt(3) == 0;
        if (strided) label.add("strided");
        return new Case(seed, b, hq, heads[1], nq, nk, d, dv, s.build(), strided, extreme, String.join(" ", label));
    }

    static void roundToIntegers(Tensor t) {
        float[] data = t.data();
        for (int i = 0; i < data.length; i++) if (Float.isFinite(data[i])) data[i] = Math.round(data[i]);
    }

    static Tensor input(Random r, Case c, float sigma, int h, int n, int d) {
        Tensor t = Inputs.gaussian(r, sigma, c.b, h, n, d);
        if (c.extreme) roundToIntegers(t);
        return BackwardChecks.maybeStrided(t, c.strided);
    }

    static void check(Case c) {
        Random r = new Random(c.seed);
        Tensor q = input(r, c, c.extreme ? KernelDifferentialTest.EXTREME_Q : 1f, c.hq, c.nq, c.d);
        Tensor k = input(r, c, c.extreme ? KernelDifferentialTest.EXTREME_K : 1f, c.hkv, c.nk, c.d);
        Tensor v = input(r, c, 1f, c.hkv, c.nk, c.dv);
        Tensor dOut = BackwardChecks.maybeStrided(Inputs.gaussian(r, 1f, c.b, c.hq, c.nq, c.dv), c.strided);
        AttentionSpec spec = c.spec;
        if (c.strided && spec.bias() != null && spec.bias().rank() >= 2) {
            spec = spec.toBuilder().bias(BackwardChecks.transposedView(spec.bias())).build();
        }
        AttentionGradients ref = Attention.forwardBackward(q, k, v, dOut, spec.toBuilder().kernel(KernelChoice.REFERENCE).build()).gradients();
        // The saved state comes from the engine's own fast forward (flash or split-KV, as dispatched).
        AttentionResult fwd = Attention.sdpa(q, k, v, spec.toBuilder().returnLse(true).threads(2).build());
        Tensor out = BackwardChecks.maybeStrided(fwd.output(), c.strided);
        double[][] bound = BackwardChecks.errorBounds(q, k, v, dOut, spec, fwd);
        float[][] expected = BackwardChecks.arrays(ref);
        for (int threads = 1; threads <= 3; threads++) {
            AttentionGradients got = Attention.backward(q, k, v, out, fwd.lse(), dOut, spec.toBuilder().kernel(KernelChoice.FLASH).threads(threads).build());
            assertEquals(KernelChoice.FLASH, got.dispatch().kernel());
            float[][] actual = BackwardChecks.arrays(got);
            for (int t = 0; t < 4; t++) {
                if (expected[t] == null) continue;
                BackwardChecks.assertWithinBound(c + ": " + BackwardChecks.NAMES[t] + ", " + threads + " thread(s)", expected[t], actual[t], bound[t], C);
            }
        }
    }
}
