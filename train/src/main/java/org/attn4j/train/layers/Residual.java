package org.attn4j.train.layers;

/**
 * The residual connection {@code out = a + b}, elementwise. Its backward passes the gradient through
 * unchanged to both inputs ({@code da += dOut}, {@code db += dOut}): the residual stream carries the
 * gradient past each block, which is why deep stacks train.
 */
public final class Residual {
    private Residual() {}

    /** {@code out[i] = a[i] + b[i]} for i &lt; n. */
    public static void forward(float[] a, float[] b, float[] out, int n) {
        for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
    }

    /** {@code da[i] += dOut[i]} and {@code db[i] += dOut[i]} for i &lt; n. */
    public static void backward(float[] dOut, float[] da, float[] db, int n) {
        for (int i = 0; i < n; i++) {
            da[i] += dOut[i];
            db[i] += dOut[i];
        }
    }
}
