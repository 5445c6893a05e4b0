package org.attn4j.train.layers;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;

/**
 * GELU in GPT-2's tanh form, elementwise:
 * {@code gelu(x) = ½·x·(1 + tanh(u))}, {@code u = √(2/π)·(x + 0.044715·x³)}.
 *
 * <p>The tanh form is GPT-2's definition (Hugging Face's {@code gelu_new}), so exported weights
 * mean the same thing in other runtimes, and its derivative has a short closed form:
 * {@code gelu'(x) = ½·(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)} with {@code t = tanh(u)}.
 * The forward keeps a reference to its input; the backward recomputes {@code t} from it. The tanh
 * is the micro-kernels' vectorised one ({@link MicroKernels#softcap} with cap 1, ~2 ulp, the same
 * bits in compiled and interpreted code): {@link Math#tanh} is not intrinsified and cost a quarter
 * of a small model's training step.
 */
public final class Gelu {
    static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    static final float CUBIC = 0.044715f;
    private static final int CHUNK = 4096;

    private final float[] output;
    private final int threads;
    private float[] input;
    private int n;

    /** @param maxSize the most elements a forward will see */
    public Gelu(int maxSize, int threads) {
        this.output = new float[maxSize];
        this.threads = threads;
    }

    /** {@code y = gelu(x)} on the first {@code n} elements; returns the output buffer. Keeps {@code x} for the backward. */
    public float[] forward(float[] x, int n) {
        if (n > output.length) throw new IllegalArgumentException("n: at most " + output.length + ", got " + n);
        this.input = x;
        this.n = n;
        MicroKernels mk = MicroKernels.get();
        Parallel.forEach(threads, (n + CHUNK - 1) / CHUNK, t -> new float[CHUNK], (item, t) -> {
            int from = item * CHUNK, len = Math.min(n, from + CHUNK) - from;
            tanhOfInner(mk, x, from, len, t);
            for (int i = 0; i < len; i++) {
                float v = x[from + i];
                output[from + i] = 0.5f * v * (1f + t[i]);
            }
        });
        return output;
    }

    /** {@code dInput += dOut·gelu'(x)} on the forward's elements. */
    public void backward(float[] dOut, float[] dInput) {
        float[] x = input;
        MicroKernels mk = MicroKernels.get();
        Parallel.forEach(threads, (n + CHUNK - 1) / CHUNK, w -> new float[CHUNK], (item, t) -> {
            int from = item * CHUNK, len = Math.min(n, from + CHUNK) - from;
            tanhOfInner(mk, x, from, len, t);
            for (int i = 0; i < len; i++) {
                float v = x[from + i], ti = t[i];
                dInput[from + i] += dOut[from + i] * (0.5f * (1f + ti) + 0.5f * v * (1f - ti * ti) * SQRT_2_OVER_PI * (1f + 3f * CUBIC * v * v));
            }
        });
    }

    /** t[i] = tanh(√(2/π)·(v + 0.044715·v³)) for v = x[from + i], i &lt; len. */
    private static void tanhOfInner(MicroKernels mk, float[] x, int from, int len, float[] t) {
        for (int i = 0; i < len; i++) {
            float v = x[from + i];
            t[i] = SQRT_2_OVER_PI * (v + CUBIC * v * v * v);
        }
        mk.softcap(t, 0, len, 1f);
    }
}
