package org.attn4j.train.task;

import java.util.Arrays;
import java.util.Random;

/** Random draws the task generators share. */
final class Draw {
    private Draw() {}

    /**
     * {@code n} distinct integers drawn uniformly from {@code [from, to)}, in draw order: a partial
     * Fisher–Yates shuffle when n is a large share of the range, rejection otherwise.
     */
    static int[] distinct(Random rnd, int n, int from, int to) {
        int range = to - from;
        if (n > range) throw new IllegalArgumentException("n: expected at most " + range + " distinct values, got " + n);
        int[] out = new int[n];
        if (n * 4L > range) {
            int[] pool = new int[range];
            for (int i = 0; i < range; i++) pool[i] = from + i;
            for (int i = 0; i < n; i++) {
                int j = i + rnd.nextInt(range - i);
                int tmp = pool[i];
                pool[i] = pool[j];
                pool[j] = tmp;
                out[i] = pool[i];
            }
            return out;
        }
        for (int i = 0; i < n; i++) {
            int x;
            boolean repeat;
            do {
                x = from + rnd.nextInt(range);
                repeat = false;
                for (int j = 0; j < i; j++) repeat |= out[j] == x;
            } while (repeat);
            out[i] = x;
        }
        return out;
    }

    /** {@code n} distinct positions of {@code [0, range)}, ascending. */
    static int[] sortedPositions(Random rnd, int n, int range) {
        int[] p = distinct(rnd, n, 0, range);
        Arrays.sort(p);
        return p;
    }
}
