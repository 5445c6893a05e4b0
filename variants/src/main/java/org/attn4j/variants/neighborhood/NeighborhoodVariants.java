package org.attn4j.variants.neighborhood;

import java.util.ArrayList;
import java.util.List;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantFactory;

/** Registry entries {@code neighborhood-1d}, {@code neighborhood-2d}, {@code neighborhood-3d} (P102). */
public final class NeighborhoodVariants {
    private NeighborhoodVariants() {}

    public static List<VariantFactory> factories() {
        List<VariantFactory> out = new ArrayList<>();
        for (int dims = 1; dims <= 3; dims++) {
            int defKernel = dims == 3 ? 3 : 7;
            String shape = dims == 1 ? "N" : dims == 2 ? "HxW" : "DxHxW";
            List<String> params = List.of(
                    "kernel=ints (per dimension or one for all, >= 1, default " + defKernel + "): window size",
                    "dilation=ints (default 1; kernel*dilation <= extent): interleaved sub-sequences",
                    "stride=ints (1..kernel, default 1): groups of stride queries share one window",
                    "causal=bools (true/false per dimension or one for all, default false): keys at or before the query only",
                    "grid=" + shape + " (default " + (dims == 1 ? "N" : dims == 2 ? "square of N" : "cube of N") + "): token grid, row-major",
                    "patch=ints (default auto): query block shape (performance only)");
            final int d = dims;
            NeighborhoodParams probe = NeighborhoodParams.of(filled(d, defKernel));
            out.add(new VariantFactory(new NeighborhoodAttention(probe).info(), params, (settings, seed) -> build(settings, d, defKernel)));
        }
        return out;
    }

    static NeighborhoodAttention build(Settings s, int dims, int defKernel) {
        int[] kernel = s.integers("kernel", dims, filled(dims, defKernel));
        int[] dilation = s.integers("dilation", dims, filled(dims, 1));
        int[] stride = s.integers("stride", dims, filled(dims, 1));
        boolean[] causal = bools(s.string("causal", null), dims);
        int[] grid = s.integers("grid", dims, null);
        int[] patch = s.integers("patch", dims, null);
        return new NeighborhoodAttention(new NeighborhoodParams(kernel, dilation, stride, causal, grid, patch));
    }

    private static boolean[] bools(String text, int dims) {
        boolean[] out = new boolean[dims];
        if (text == null) return out;
        String[] parts = text.split("[x,]");
        if (parts.length != 1 && parts.length != dims) {
            throw new IllegalArgumentException("causal: expected 1 or " + dims + " values, got " + parts.length + " in '" + text + "'");
        }
        for (int a = 0; a < dims; a++) {
            String p = parts[parts.length == 1 ? 0 : a].trim().toLowerCase();
            out[a] = switch (p) {
                case "true", "yes", "1", "on" -> true;
                case "false", "no", "0", "off" -> false;
                default -> throw new IllegalArgumentException("causal: expected true or false per dimension, got '" + text + "'");
            };
        }
        return out;
    }

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
