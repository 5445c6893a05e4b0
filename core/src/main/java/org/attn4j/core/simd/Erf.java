package org.attn4j.core.simd;

/**
 * The error function by Abramowitz and Stegun's formula 7.1.26 (absolute error below 1.5e-7, the
 * resolution of float32 near 1), shared by the scalar and vector GELU so both agree, and by the
 * variants that need erf (Mega's laplace attention).
 */
public final class Erf {
    static final double INV_SQRT2 = 0.7071067811865476;
    static final float INV_SQRT2_F = (float) INV_SQRT2;
    static final double P = 0.3275911, A1 = 0.254829592, A2 = -0.284496736, A3 = 1.421413741, A4 = -1.453152027, A5 = 1.061405429;
    static final float P_F = (float) P, A1_F = (float) A1, A2_F = (float) A2, A3_F = (float) A3, A4_F = (float) A4, A5_F = (float) A5;

    private Erf() {}

    /** erf(z), absolute error below 1.5e-7. */
    public static double erf(double z) {
        double a = Math.abs(z);
        double t = 1 / (1 + P * a);
        double y = 1 - (((((A5 * t + A4) * t) + A3) * t + A2) * t + A1) * t * Math.exp(-a * a);
        return z < 0 ? -y : y;
    }
}
