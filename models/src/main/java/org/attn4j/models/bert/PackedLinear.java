package org.attn4j.models.bert;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;

/**
 * A dense layer {@code y = x·W + b}, W given {@code [in, out]} row-major. At construction W is packed
 * once into column panels of {@link #PANEL} outputs, each a contiguous {@code [in × PANEL]} block:
 * the GEMM then streams each panel sequentially instead of striding across {@code in} rows of
 * {@code out} floats (page after page), which cost about a third of the projection time.
 */
final class PackedLinear {
    /** Outputs per packed panel: a multiple of the GEMM tile width for 256- and 512-bit vectors. */
    static final int PANEL = 64;
    /** Tokens per parallel work item. */
    private static final int ROW_BLOCK = 96, PANELS_PER_ITEM = 4;
    private static final int K_BLOCK = Integer.getInteger("attn4j.linear.kBlock", 128);

    final int in, out;
    final float[] b;
    /** W in panels; the row-major W it came from is not kept (that would double the weights' memory). */
    private final float[] packed;

    private PackedLinear(int in, int out, float[] w, float[] b) {
        this.in = in;
        this.out = out;
        this.b = b;
        int panels = (out + PANEL - 1) / PANEL;
        packed = new float[panels * in * PANEL];
        for (int p = 0; p < panels; p++) {
            int c0 = p * PANEL, width = Math.min(PANEL, out - c0);
            for (int r = 0; r < in; r++) System.arraycopy(w, r * out + c0, packed, (p * in + r) * PANEL, width);
        }
    }

    private PackedLinear(int in, int out, float[] packed, float[] b, boolean alreadyPacked) {
        this.in = in;
        this.out = out;
        this.b = b;
        this.packed = packed;
    }

    /** Floats in the packed form of an {@code [in, out]} weight. */
    static long packedSize(int in, int out) {
        return (long) ((out + PANEL - 1) / PANEL) * in * PANEL;
    }

    /** A layer from its {@link #packed()} form (as a model cache stored it); the arrays are kept, not copied. */
    static PackedLinear ofPacked(int in, int out, float[] packed, float[] b) {
        if (packed.length != packedSize(in, out) || b.length != out) {
            throw new IllegalArgumentException("packed: expected " + packedSize(in, out) + " weights and " + out + " biases for ["
                    + in + ", " + out + "], got " + packed.length + " and " + b.length);
        }
        return new PackedLinear(in, out, packed, b, true);
    }

    /** W as a new row-major {@code [in, out]} array (the panels unpacked). */
    float[] unpacked() {
        float[] w = new float[in * out];
        for (int p = 0; p * PANEL < out; p++) {
            int c0 = p * PANEL, width = Math.min(PANEL, out - c0);
            for (int r = 0; r < in; r++) System.arraycopy(packed, (p * in + r) * PANEL, w, r * out + c0, width);
        }
        return w;
    }

    /** W in panels (see the class comment); not a copy. */
    float[] packed() { return packed; }

    static PackedLinear of(Tensor weight, Tensor bias) {
        return concat(new Tensor[] {weight}, new Tensor[] {bias});
    }

    /**
     * Layers side by side (weights {@code [in, out_i]}, biases {@code [out_i]}): one GEMM computes all
     * their outputs (e.g. Q, K and V).
     */
    static PackedLinear concat(Tensor[] weights, Tensor[] biases) {
        int in = weights[0].dim(0), out = 0;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i].dim(0) != in) throw new IllegalArgumentException("concat: input sizes differ (" + in + " vs " + weights[i].dim(0) + ")");
            int o = weights[i].dim(1);
            if (biases[i].rank() != 1 || biases[i].dim(0) != o) {
                throw new IllegalArgumentException("bias: expected shape [" + o + "], got " + java.util.Arrays.toString(biases[i].shape()));
            }
            out += o;
        }
        float[] w = new float[in * out], b = new float[out];
        int col = 0;
        for (int i = 0; i < weights.length; i++) {
            int o = weights[i].dim(1);
            float[] wi = weights[i].contiguous().toArray();
            for (int r = 0; r < in; r++) System.arraycopy(wi, r * o, w, r * out + col, o);
            System.arraycopy(biases[i].contiguous().toArray(), 0, b, col, o);
            col += o;
        }
        return new PackedLinear(in, out, w, b);
    }

    /** y[rows × out] = x[rows × in]·W + b, split over threads by token blocks and groups of panels. */
    void apply(float[] x, int rows, float[] y, int threads) {
        MicroKernels mk = MicroKernels.get();
        int panels = (out + PANEL - 1) / PANEL;
        int rowBlocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK, groups = (panels + PANELS_PER_ITEM - 1) / PANELS_PER_ITEM;
        Parallel.forEach(threads, rowBlocks * groups, t -> null, (item, unused) -> {
            int r0 = (item / groups) * ROW_BLOCK, m = Math.min(ROW_BLOCK, rows - r0);
            int p0 = (item % groups) * PANELS_PER_ITEM, p1 = Math.min(panels, p0 + PANELS_PER_ITEM);
            for (int p = p0; p < p1; p++) {
                int c0 = p * PANEL, n = Math.min(PANEL, out - c0);
                for (int r = r0; r < r0 + m; r++) System.arraycopy(b, c0, y, r * out + c0, n);
                // k in slices of K_BLOCK: a 128 × 64 slice of the panel (32 KiB) stays in L1 while
                // every 6-row tile of the block passes over it.
                for (int k0 = 0; k0 < in; k0 += K_BLOCK) {
                    int kk = Math.min(K_BLOCK, in - k0);
                    mk.gemm(m, n, kk, x, r0 * in + k0, in, 1, packed, (p * in + k0) * PANEL, PANEL, y, r0 * out + c0, out, true);
                }
            }
        });
    }
}
