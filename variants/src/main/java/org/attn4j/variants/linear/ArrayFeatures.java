package org.attn4j.variants.linear;

/** Feature rows computed up front (row-major N × F arrays); the engine copies blocks of them. */
final class ArrayFeatures implements LinearCore.FeatureMap {
    private final float[] fq, fk;
    private final int f;

    ArrayFeatures(float[] fq, float[] fk, int f) {
        this.fq = fq;
        this.fk = fk;
        this.f = f;
    }

    @Override public int dim() { return f; }
    @Override public long flopsPerRow() { return 0; }

    @Override
    public void queries(int r0, int rows, float[] out) { System.arraycopy(fq, r0 * f, out, 0, rows * f); }

    @Override
    public void keys(int r0, int rows, float[] out) { System.arraycopy(fk, r0 * f, out, 0, rows * f); }
}
