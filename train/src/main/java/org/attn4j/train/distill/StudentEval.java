package org.attn4j.train.distill;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.attn4j.models.embed.Embedder;

/** How close a student's sentence embeddings are to its teacher's, and how fast it runs beside it. */
public final class StudentEval {
    private StudentEval() {}

    /** Mean over rows of the cosine of a[i] and b[i] (rows L2-normalised, as {@link Embedder#embed} returns them). */
    public static double meanCosine(float[][] a, float[][] b) {
        if (a.length != b.length || a.length == 0) throw new IllegalArgumentException("b: expected " + a.length + " rows like a (and at least one), got " + b.length);
        if (a[0].length != b[0].length) throw new IllegalArgumentException("b: widths differ (" + a[0].length + " vs " + b[0].length + "), cosine is undefined");
        double sum = 0;
        for (int i = 0; i < a.length; i++) sum += dot(a[i], b[i]);
        return sum / a.length;
    }

    /** Fraction of i whose nearest candidate (by dot product of normalised rows) is candidates[i]. */
    public static double recallAt1(float[][] queries, float[][] candidates) {
        if (queries.length != candidates.length || queries.length == 0) {
            throw new IllegalArgumentException("candidates: expected " + queries.length + " rows like queries (and at least one), got " + candidates.length);
        }
        int hits = 0;
        for (int i = 0; i < queries.length; i++) {
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < candidates.length; j++) {
                double s = dot(queries[i], candidates[j]);
                if (s > bestScore) {
                    bestScore = s;
                    best = j;
                }
            }
            if (best == i) hits++;
        }
        return (double) hits / queries.length;
    }

    /** Sentences per second of each model (medians over timed rounds); {@link #speedUp} is the student's rate over the teacher's. */
    public record Throughput(double teacherPerSecond, double studentPerSecond) {
        public double speedUp() { return studentPerSecond / teacherPerSecond; }
    }

    /**
     * Both models embed {@code texts} in turns (teacher, student, student, teacher, ...: the order
     * alternates so neither always runs first) after one warm-up each; returns the median rates.
     */
    public static Throughput throughput(Embedder teacher, Embedder student, List<String> texts, int rounds) {
        if (rounds < 1) throw new IllegalArgumentException("rounds: expected >= 1, got " + rounds);
        teacher.embed(texts);
        student.embed(texts);
        List<Double> t = new ArrayList<>(), s = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            boolean teacherFirst = r % 2 == 0;
            for (int k = 0; k < 2; k++) {
                boolean isTeacher = (k == 0) == teacherFirst;
                long t0 = System.nanoTime();
                (isTeacher ? teacher : student).embed(texts);
                double rate = texts.size() / ((System.nanoTime() - t0) / 1e9);
                (isTeacher ? t : s).add(rate);
            }
        }
        return new Throughput(median(t), median(s));
    }

    private static double median(List<Double> x) {
        double[] a = x.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
