package org.attn4j.variants.local;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;

/**
 * Shared plumbing of the local variants: token grids, rectangles of a row-major grid, per-head
 * views and gathers, and one engine call per (query region, key region).
 */
final class LocalSupport {
    private LocalSupport() {}

    /**
     * The grid of {@code n} tokens: {@code grid} when given (its product must be n), else n for one
     * dimension or the square root of n for two.
     */
    static int[] resolveGrid(int[] grid, int dims, int n) {
        if (grid != null) {
            if (grid.length != dims) throw new IllegalArgumentException("grid: expected " + dims + " extents, got " + grid.length);
            long p = 1;
            for (int g : grid) p *= g;
            if (p != n) {
                throw new IllegalArgumentException("grid: " + java.util.Arrays.toString(grid) + " has " + p + " tokens but the input has N = " + n);
            }
            return grid.clone();
        }
        if (dims == 1) return new int[] {n};
        int side = (int) Math.round(Math.sqrt(n));
        if (side * side != n) {
            throw new IllegalArgumentException("grid: N = " + n + " is not a square; give the grid explicitly, e.g. grid=HxW");
        }
        return new int[] {side, side};
    }

    /** Validates an optional grid parameter: null, or {@code dims} positive extents. */
    static int[] checkGrid(int[] grid, int dims) {
        if (grid == null) return null;
        if (grid.length != dims) throw new IllegalArgumentException("grid: expected " + dims + " extents, got " + grid.length);
        for (int g : grid) if (g < 1) throw new IllegalArgumentException("grid: expected extents >= 1, got " + java.util.Arrays.toString(grid));
        return grid.clone();
    }

    /** Validates an optional logit scale: null (1/sqrt(D)) or finite and non-zero. */
    static Float checkScale(Float scale) {
        if (scale != null && (!Float.isFinite(scale) || scale == 0f)) {
            throw new IllegalArgumentException("scale: expected a finite non-zero number (or unset for 1/sqrt(D)), got " + scale);
        }
        return scale;
    }

    /** The rectangle {@code [y0, y1) × [x0, x1)} of a row-major grid of width {@code w}. */
    record Rect(int y0, int y1, int x0, int x1) {
        int size() { return (y1 - y0) * (x1 - x0); }

        /** Whether its tokens are consecutive in the flattened grid. */
        boolean contiguous(int w) { return y1 - y0 <= 1 || (x0 == 0 && x1 == w); }

        /** Flattened index of the {@code i}-th token in row-major order of the rectangle. */
        int token(int i, int w) {
            int cols = x1 - x0;
            return (y0 + i / cols) * w + x0 + i % cols;
        }
    }

    /** Rows {@code [start, start + len)} of head (b, h) of a [B, H, N, X] tensor, as a [1, 1, len, X] view. */
    static Tensor rows(Tensor t, int b, int h, int start, int len) {
        int base = t.offset() + b * t.stride(0) + h * t.stride(1) + start * t.stride(2);
        return Tensor.view(t.data(), base, new int[] {1, 1, len, t.dim(3)}, new int[] {t.stride(0), t.stride(1), t.stride(2), t.stride(3)});
    }

    /** Copies the tokens of {@code r} of head (b, h) into {@code dst} (row-major, rows × X) from {@code at}. */
    static void gather(Tensor t, int b, int h, Rect r, int w, float[] dst, int at) {
        float[] d = t.data();
        int x = t.dim(3), s2 = t.stride(2), s3 = t.stride(3);
        int base = t.offset() + b * t.stride(0) + h * t.stride(1);
        int n = r.size();
        for (int i = 0; i < n; i++) {
            int p = base + r.token(i, w) * s2, o = at + i * x;
            if (s3 == 1) System.arraycopy(d, p, dst, o, x);
            else for (int c = 0; c < x; c++) dst[o + c] = d[p + c * s3];
        }
    }

    /** Copies rows {@code [start, start + len)} of head (b, h) into {@code dst} from row {@code atRow}. */
    static void gatherRows(Tensor t, int b, int h, int start, int len, float[] dst, int atRow) {
        gather(t, b, h, new Rect(0, 1, start, start + len), Integer.MAX_VALUE, dst, atRow * t.dim(3));
    }

    /** A [1, 1, rows, x] view of the first rows·x floats of {@code buf}. */
    static Tensor packed(float[] buf, int rows, int x) {
        return Tensor.view(buf, 0, new int[] {1, 1, rows, x}, new int[] {rows * x, rows * x, x, 1});
    }

    /** The region of head (b, h) as a [1, 1, size, X] tensor: a view when contiguous, else gathered into {@code buf}. */
    static Tensor region(Tensor t, int b, int h, Rect r, int w, float[] buf) {
        if (r.contiguous(w)) return rows(t, b, h, r.y0() * w + r.x0(), r.size());
        gather(t, b, h, r, w, buf, 0);
        return packed(buf, r.size(), t.dim(3));
    }

    /** The engine spec every local variant uses for one block: flash kernel, one thread (blocks are the parallel unit). */
    static AttentionSpec spec(Float scale, boolean causalBottomRight) {
        AttentionSpec.Builder b = AttentionSpec.builder().kernel(KernelChoice.FLASH).threads(1).validate(false).scale(scale);
        if (causalBottomRight) b.causal(CausalAlignment.BOTTOM_RIGHT);
        return b.build();
    }

    /** Softmax attention of {@code q} over {@code k, v} ([1, 1, *, *] each); the output rows, row-major. */
    static float[] attend(Tensor q, Tensor k, Tensor v, AttentionSpec spec) {
        Tensor o = Attention.sdpa(q, k, v, spec).output();
        return o.data();
    }

    /** Writes {@code rows} (rows × dv, row-major) to the tokens of {@code r} in head (b, h) of a contiguous [B, H, N, dv] array. */
    static void scatter(float[] out, int heads, int n, int dv, int b, int h, Rect r, int w, float[] rows) {
        int base = (b * heads + h) * n;
        int cnt = r.size();
        for (int i = 0; i < cnt; i++) System.arraycopy(rows, i * dv, out, (base + r.token(i, w)) * dv, dv);
    }

    /** The dense-attention FLOPs of {@code pairs} visible query-key pairs: 2·D for the logit, 2·Dv for the value. */
    static long pairFlops(long pairs, int d, int dv) {
        return 2L * pairs * (d + dv);
    }
}
