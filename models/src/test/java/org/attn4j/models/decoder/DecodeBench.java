package org.attn4j.models.decoder;

import java.nio.file.Path;

/**
 * Decode steps on one loaded GGUF, contenders interleaved step by step:
 * {@code main(model.gguf, threads, steps, batch)}. Contenders: one sequence and {@code batch} sequences
 * per batched step, each with Q8_0 activations quantised (llama.cpp's numerics) and, for Q8_0 files,
 * with float activations. Prints per contender the median and the minimum time per step, tokens/s,
 * the weight bytes read per second, and the batched/single aggregate tokens/s ratios.
 */
public class DecodeBench {
    public static void main(String[] a) throws Exception {
        DecoderModel q = GgufDecoder.load(Path.of(a[0])).threads(Integer.parseInt(a[1])).q8Activations(true);
        DecoderModel f = new DecoderModel(q.config(), q.weights()).threads(q.threads()).q8Activations(false);
        int steps = Integer.parseInt(a[2]), batch = Integer.parseInt(a[3]);
        long bytes = 0;
        boolean hasQ8 = false;
        for (DecoderWeights.Layer l : q.weights().layers()) {
            for (Matrix w : new Matrix[] {l.wq(), l.wk(), l.wv(), l.wo(), l.wGate(), l.wUp(), l.wDown()}) {
                if (w != null) bytes += w.bytes();
                hasQ8 |= w instanceof Q8Matrix;
            }
        }
        bytes += (q.weights().output() != null ? q.weights().output() : q.weights().tokenEmbedding()).bytes();
        DecoderModel[] models = hasQ8 ? new DecoderModel[] {q, f} : new DecoderModel[] {q};
        int v = q.config().vocab();
        int[] prompt = {72, 101, 108, 108, 111, 32, 119, 111};
        KvCache[][] caches = new KvCache[models.length * 2][];
        for (int c = 0; c < caches.length; c++) {
            caches[c] = new KvCache[c % 2 == 0 ? 1 : batch];
            for (int i = 0; i < caches[c].length; i++) {
                caches[c][i] = q.newCache(prompt.length + steps + 1);
                models[c / 2].forward(caches[c][i], prompt, false);
            }
        }
        long[][] t = new long[caches.length][steps];
        for (int s = 0; s < steps; s++) {
            for (int c = 0; c < caches.length; c++) {
                int[] toks = new int[caches[c].length];
                for (int i = 0; i < toks.length; i++) toks[i] = (s * 131 + 7 + 17 * i) % v;
                long t0 = System.nanoTime();
                models[c / 2].step(caches[c], toks);
                t[c][s] = System.nanoTime() - t0;
            }
        }
        double[] med = new double[caches.length], min = new double[caches.length];
        for (int c = 0; c < caches.length; c++) {
            java.util.Arrays.sort(t[c]);
            med[c] = t[c][steps / 2] / 1e9;
            min[c] = t[c][0] / 1e9;
            System.out.printf("%s threads %s %s activations, %d sequence(s): %.3f s/step (min %.3f) = %.2f tokens/s in all, weights %.2f GB/s%n",
                    Path.of(a[0]).getFileName(), a[1], models[c / 2].q8Activations() && hasQ8 ? "q8" : "float", caches[c].length,
                    med[c], min[c], caches[c].length / med[c], bytes / med[c] / 1e9);
        }
        for (int m = 0; m < models.length; m++) {
            System.out.printf("  %s activations: %d sequences / 1 sequence aggregate tokens/s %.2f (from minima %.2f)%n",
                    models[m].q8Activations() && hasQ8 ? "q8" : "float", batch, batch * med[2 * m] / med[2 * m + 1], batch * min[2 * m] / min[2 * m + 1]);
        }
    }
}
