package org.attn4j.bench.train;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.attn4j.bench.peak.FmaPeak;
import org.attn4j.train.Parameters;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.optim.AdamW;
import org.attn4j.train.optim.GradientClipping;
import org.attn4j.train.task.Batch;
import org.attn4j.train.task.Mqar;

/**
 * Training throughput: tokens/s of whole optimiser steps (forward, backward, clipping, AdamW) of a
 * {@link TransformerLM} on MQAR batches, the model FLOP utilisation (achieved model FLOP/s ÷ the FMA
 * peak measured in the same run on the same thread count), the heap's peak, and the bytes
 * allocated per step (all threads).
 *
 * <p>Model FLOPs of one step (what the model needs, not what an implementation happens to do):
 * every linear layer 2·rows·in·out forward and 4·rows·in·out backward; causal attention per layer
 * 2·T²·C forward (q·kᵀ and p·v over the T(T+1)/2 visible pairs, ≈ T²/2 each at 2 FLOPs per
 * multiply-add) and 2.5× that backward; the output projection 6·M·C·V on the M marked rows;
 * norms, activations, the embedding and the optimiser are not counted (they are O(rows·C)).
 */
public final class TrainBench {

    /** The benchmarked shape. */
    public record Shape(int layers, int dModel, int heads, int seqLen, int batch, int vocab, int kvPairs) {
        public Shape {
            if (batch <= 0) throw new IllegalArgumentException("batch: expected > 0, got " + batch);
        }

        public static Shape issueTarget() { return new Shape(2, 256, 4, 256, 32, 8192, 16); }
    }

    /** One thread count's result. */
    public record Row(Shape shape, int threads, int steps, double secondsPerStep, double tokensPerSecond,
                      double modelGflops, double peakGflops, double mfu, long peakHeapBytes, long allocatedPerStep) {}

    private final Consumer<String> progress;

    public TrainBench(Consumer<String> progress) { this.progress = progress; }

    /** Model FLOPs of one optimiser step on {@code marked} loss rows. */
    public static double stepFlops(TransformerConfig c, int batch, long marked) {
        double rows = (double) batch * c.seqLen(), C = c.dModel(), hid = c.hidden(), T = c.seqLen();
        double fcOut = c.mlp() == TransformerConfig.Mlp.SWIGLU ? 2 * hid : hid;
        double linear = rows * (C * 3 * C + C * C + C * fcOut + hid * C);  // multiply-adds per layer
        double attention = batch * 2 * T * T * C;                            // forward FLOPs per layer
        double perLayer = 6 * linear + 3.5 * attention;                      // fwd 2·MACs + bwd 4·MACs; attention fwd + 2.5× bwd
        double head = 6.0 * marked * C * c.vocab();
        return c.layers() * perLayer + head;
    }

    public List<Row> run(Shape s, int[] threads, int warmupSteps, int steps) {
        List<Row> rows = new ArrayList<>();
        TransformerConfig cfg = TransformerConfig.gpt(s.vocab(), s.seqLen(), s.layers(), s.dModel(), s.heads());
        Mqar.Config task = Mqar.Config.of(s.seqLen(), s.kvPairs()).withVocab(s.vocab());
        com.sun.management.ThreadMXBean tmx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int t : threads) {
            progress.accept("measuring the FMA peak on " + t + " thread(s)");
            double peak = FmaPeak.measure(t, 5, 200);
            TransformerLM model = new TransformerLM(cfg, s.batch(), t, 1);
            AdamW opt = new AdamW(model.parameters(), 0.1f);
            Mqar stream = new Mqar(task, 1);
            List<Batch> batches = new ArrayList<>();
            for (int i = 0; i < warmupSteps + steps; i++) batches.add(stream.next(s.batch()));
            progress.accept("training " + warmupSteps + " warm-up + " + steps + " timed steps on " + t + " thread(s)");
            for (int i = 0; i < warmupSteps; i++) step(model, opt, batches.get(i));
            System.gc();
            resetPeaks();
            long alloc0 = tmx.getTotalThreadAllocatedBytes();
            long marked = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                Batch b = batches.get(warmupSteps + i);
                step(model, opt, b);
                marked += b.marked();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long allocated = tmx.getTotalThreadAllocatedBytes() - alloc0;
            double flops = stepFlops(cfg, s.batch(), marked / steps) * steps;
            double gflops = flops / seconds / 1e9;
            rows.add(new Row(s, t, steps, seconds / steps, (double) steps * s.batch() * s.seqLen() / seconds, gflops, peak,
                    gflops / peak, peakHeap(), allocated / steps));
        }
        return rows;
    }

    private static void step(TransformerLM model, AdamW opt, Batch b) {
        Parameters p = model.parameters();
        p.zeroGrad();
        model.forward(b.tokens(), b.targets(), b.lossMask());
        model.backward();
        GradientClipping.clip(p, 1.0);
        opt.step(1e-3f);
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) pool.resetPeakUsage();
        }
    }

    /** Sum of the heap pools' peaks since the last reset (an upper bound of the live peak: pools peak at different moments). */
    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) sum += pool.getPeakUsage().getUsed();
        }
        return sum;
    }

    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        if (rows.isEmpty()) return "";
        Shape s = rows.get(0).shape();
        sb.append(String.format(Locale.ROOT, "training step: %d layers, d_model %d, %d heads, seq %d, batch %d, vocab %d (MQAR, %d kv pairs), exact attention%n",
                s.layers(), s.dModel(), s.heads(), s.seqLen(), s.batch(), s.vocab(), s.kvPairs()));
        sb.append(String.format(Locale.ROOT, "%7s %10s %12s %12s %12s %7s %14s %16s%n",
                "threads", "s/step", "tokens/s", "model GF/s", "peak GF/s", "MFU", "peak heap MB", "alloc/step MB"));
        boolean disturbed = false;
        for (Row r : rows) {
            // Achieved above the measured peak means the peak's short measurement was starved of CPU
            // (a shared machine): no utilisation can be computed from it.
            String mfu = r.mfu() <= 1 ? String.format(Locale.ROOT, "%6.1f%%", 100 * r.mfu()) : "    n/a";
            disturbed |= r.mfu() > 1;
            sb.append(String.format(Locale.ROOT, "%7d %10.3f %12.0f %12.1f %12.1f %s %14.1f %16.2f%n",
                    r.threads(), r.secondsPerStep(), r.tokensPerSecond(), r.modelGflops(), r.peakGflops(), mfu,
                    r.peakHeapBytes() / 1e6, r.allocatedPerStep() / 1e6));
        }
        if (disturbed) sb.append("n/a: the FMA peak measured below the achieved rate (the machine was busy); rerun on a quiet machine\n");
        return sb.toString();
    }

    /** {@code TrainBench [threads,threads] [warmup] [steps] [layers,dModel,heads,seqLen,batch,vocab,kvPairs]}. */
    public static void main(String[] args) {
        int[] threads = args.length > 0 ? java.util.Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {1, 2};
        int warm = args.length > 1 ? Integer.parseInt(args[1]) : 2, steps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Shape shape = Shape.issueTarget();
        if (args.length > 3) {
            int[] v = java.util.Arrays.stream(args[3].split(",")).mapToInt(Integer::parseInt).toArray();
            shape = new Shape(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        }
        List<Row> rows = new TrainBench(m -> System.err.println("  " + m)).run(shape, threads, warm, steps);
        System.out.print(table(rows));
    }
}
