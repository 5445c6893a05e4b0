package org.attn4j.explain.analysis;

import java.util.Random;

/** Random softmax-like attention for property tests. */
final class RandomAttention {

    private RandomAttention() {}

    /** An n × n map: each row is a softmax of Gaussian logits (scaled by 2). */
    static double[][] map(Random rnd, int n) {
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < n; j++) {
                a[i][j] = Math.exp(2 * rnd.nextGaussian());
                sum += a[i][j];
            }
            for (int j = 0; j < n; j++) {
                a[i][j] /= sum;
            }
        }
        return a;
    }

    static double[][][][] attention(Random rnd, int layers, int heads, int n) {
        double[][][][] a = new double[layers][heads][][];
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < heads; h++) {
                a[l][h] = map(rnd, n);
            }
        }
        return a;
    }
}
