package org.attn4j.variants.conv;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.VariantResult;

/**
 * The depthwise, softmax-normalised convolution over time shared by {@link LightweightConv} and
 * {@link DynamicConv}, on the token-major view of the values: token i's features are the
 * {@code C = H·Dv} channels {@code c = h·Dv + d} of {@code v[b, :, i, :]}; group g owns the
 * contiguous channels {@code [g·C/G, (g+1)·C/G)}.
 */
final class TimeConvolution {
    private TimeConvolution() {}

    /** Supplies the raw (pre-softmax) kernel logits of every group for one chunk of tokens. */
    interface Kernels {
        /**
         * Fills {@code out[(t − t0)·G·k + g·k + j]} for tokens t in [t0, t1) of batch entry b, from the
         * token-major features {@code x[(b·N + t)·C + c]}; returns the FLOPs spent.
         */
        long fill(float[] x, int b, int n, int c, int t0, int t1, float[] out);
    }

    static final int CHUNK = 64;

    static VariantResult run(Tensor v, ConvParams p, int groups, Kernels kernels, int threads) {
        int bsz = v.dim(0), heads = v.dim(1), n = v.dim(2), dv = v.dim(3), c = heads * dv, k = p.kernel(), gk = groups * k;
        int seg = c / groups, first = p.firstOffset();
        float[] x = new float[bsz * n * c];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                float[] head = Shapes.head(v, b, h);
                for (int i = 0; i < n; i++) System.arraycopy(head, i * dv, x, (b * n + i) * c + h * dv, dv);
            }
        }
        float[] y = new float[bsz * n * c];
        int chunks = (n + CHUNK - 1) / CHUNK;
        long[] spent = new long[bsz * chunks];
        MicroKernels mk = MicroKernels.get();
        Parallel.forEach(Parallel.resolveThreads(threads), bsz * chunks, w -> new float[CHUNK * gk], (item, w) -> {
            int b = item / chunks, t0 = (item % chunks) * CHUNK, t1 = Math.min(n, t0 + CHUNK);
            long flops = kernels.fill(x, b, n, c, t0, t1, w);
            for (int t = t0; t < t1; t++) {
                int wo = (t - t0) * gk;
                for (int g = 0; g < groups; g++) softmax(w, wo + g * k, k);
                int out = (b * n + t) * c;
                for (int j = 0; j < k; j++) {
                    int src = t + first + j;
                    if (src < 0 || src >= n) continue; // zero padding
                    int in = (b * n + src) * c;
                    for (int g = 0; g < groups; g++) mk.axpy(w[wo + g * k + j], x, in + g * seg, y, out + g * seg, seg);
                    flops += 2L * c;
                }
            }
            spent[item] = flops;
        });
        float[] out = new float[bsz * heads * n * dv];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) System.arraycopy(y, (b * n + i) * c + h * dv, out, ((b * heads + h) * n + i) * dv, dv);
            }
        }
        long flops = 0;
        for (long f : spent) flops += f;
        return new VariantResult(Tensor.of(out, bsz, heads, n, dv), flops);
    }

    /** In-place softmax of {@code a[off .. off+len)}. */
    static void softmax(float[] a, int off, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) max = Math.max(max, a[off + i]);
        double sum = 0;
        for (int i = 0; i < len; i++) {
            float e = (float) Math.exp(a[off + i] - max);
            a[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < len; i++) a[off + i] *= inv;
    }
}
