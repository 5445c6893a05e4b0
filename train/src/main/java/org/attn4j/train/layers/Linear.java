package org.attn4j.train.layers;

import java.util.Arrays;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.train.Parameters;

/**
 * A dense layer {@code y = x·Wᵀ + b} on rows of activations.
 *
 * <p>Layout: {@code W} is {@code [out, in]} row-major (PyTorch's and Llama's layout), {@code b} is
 * {@code [out]}; inputs are {@code [rows, in]} and outputs {@code [rows, out]}, row-major. This
 * layout makes both backward products plain {@link MicroKernels#gemm} calls with a row-major B:
 * <ul>
 *   <li>{@code dx += dy·W} (B = W, {@code [out × in]});</li>
 *   <li>{@code dW += dyᵀ·x} (A = dyᵀ read through strides, B = x).</li>
 * </ul>
 * The forward needs {@code Wᵀ} row-major: it is copied into {@link #weightT} at the start of every
 * forward ({@code in·out} floats, negligible next to the {@code rows·in·out} product, and always in
 * step with the weights, which change between steps).
 *
 * <p>Parallel work is split into fixed blocks of rows (forward, dx) or of output features (dW), each
 * written by one work item with its whole reduction inside one GEMM call, so results do not depend
 * on which thread ran which item. {@code db} is summed over rows in row order.
 */
public final class Linear {
    /** Rows (tokens) per parallel work item in the forward and the input gradient (a multiple of the GEMM's 6-row tile). */
    static final int ROW_BLOCK = 96;
    /** Output features per parallel work item in the weight gradient (a multiple of 6, too). */
    static final int FEATURE_BLOCK = 48;

    private final Parameters params;
    private final Parameters.Param weight, bias;
    private final int in, out, threads;
    private final float[] weightT;
    private final float[] output;
    private float[] input;
    private int rows;

    /** Declares {@code prefix.weight} {@code [out, in]} (with weight decay) and, if {@code withBias}, {@code prefix.bias} {@code [out]}. */
    public static void declare(Parameters.Builder b, String prefix, int in, int out, boolean withBias) {
        b.add(prefix + ".weight", true, out, in);
        if (withBias) b.add(prefix + ".bias", false, out);
    }

    /**
     * @param prefix  the name given to {@link #declare}
     * @param maxRows the most rows a forward will see (sizes the output buffer)
     * @param threads worker threads for the GEMMs
     */
    public Linear(Parameters params, String prefix, int maxRows, int threads) {
        this.params = params;
        this.weight = params.get(prefix + ".weight");
        this.bias = params.contains(prefix + ".bias") ? params.get(prefix + ".bias") : null;
        this.out = weight.dim(0);
        this.in = weight.dim(1);
        this.threads = threads;
        this.weightT = new float[in * out];
        this.output = new float[Math.multiplyExact(maxRows, out)];
    }

    public int in() { return in; }

    public int out() { return out; }

    /**
     * {@code y = x·Wᵀ + b} for {@code rows} rows of {@code x} ({@code [rows, in]}); returns the layer's
     * output buffer ({@code [rows, out]} at offset 0, valid until the next forward). Keeps a
     * reference to {@code x} for the backward: do not overwrite it before then.
     */
    public float[] forward(float[] x, int rows) {
        if (Math.multiplyExact(rows, out) > output.length) throw new IllegalArgumentException("rows: at most " + output.length / out + ", got " + rows);
        this.input = x;
        this.rows = rows;
        float[] w = params.values();
        int wOff = weight.offset();
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) weightT[i * out + o] = w[wOff + o * in + i];
        }
        MicroKernels mk = MicroKernels.get();
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        Parallel.forEach(threads, blocks, t -> null, (item, unused) -> {
            int r0 = item * ROW_BLOCK, m = Math.min(ROW_BLOCK, rows - r0);
            for (int r = r0; r < r0 + m; r++) {
                if (bias == null) Arrays.fill(output, r * out, (r + 1) * out, 0f);
                else System.arraycopy(w, bias.offset(), output, r * out, out);
            }
            mk.gemm(m, out, in, x, r0 * in, in, 1, weightT, 0, out, output, r0 * out, out, true);
        });
        return output;
    }

    /**
     * Accumulates the gradients for {@code dOut} = ∂loss/∂y ({@code [rows, out]}): {@code dInput += dOut·W}
     * ({@code [rows, in]}; skipped when null), {@code dW += dOutᵀ·x}, {@code db += Σ_rows dOut}.
     */
    public void backward(float[] dOut, float[] dInput) {
        MicroKernels mk = MicroKernels.get();
        float[] w = params.values(), g = params.grads();
        float[] x = input;
        int rows = this.rows, wOff = weight.offset();
        if (dInput != null) {
            int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
            Parallel.forEach(threads, blocks, t -> null, (item, unused) -> {
                int r0 = item * ROW_BLOCK, m = Math.min(ROW_BLOCK, rows - r0);
                mk.gemm(m, in, out, dOut, r0 * out, out, 1, w, wOff, in, dInput, r0 * in, in, true);
            });
        }
        // dW[o0:o1, :] += dOut[:, o0:o1]ᵀ · x: A(o, r) = dOut[r·out + o], so aRs = 1, aCs = out.
        int fBlocks = (out + FEATURE_BLOCK - 1) / FEATURE_BLOCK;
        Parallel.forEach(threads, fBlocks, t -> null, (item, unused) -> {
            int o0 = item * FEATURE_BLOCK, mo = Math.min(FEATURE_BLOCK, out - o0);
            mk.gemm(mo, in, rows, dOut, o0, 1, out, x, 0, in, g, wOff + o0 * in, in, true);
        });
        if (bias != null) {
            for (int r = 0; r < rows; r++) mk.axpy(1f, dOut, r * out, g, bias.offset(), out);
        }
    }
}
