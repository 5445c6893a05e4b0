package org.attn4j.variants.trainable;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;

/**
 * Not a test: times forward + backward of every trainable mechanism on one training-sized shape,
 * interleaved round by round with {@code full} (the engine's flash kernels), and prints each one's
 * median time and its ratio to {@code full}. Arguments: B H N D threads rounds (defaults 8 2 256 32 1 7), then
 * optional extra contenders {@code NAME:key=value,key=value}.
 * Run (after {@code ./mvnw -o -q -pl variants -am test-compile}):
 * <pre>java --add-modules jdk.incubator.vector -cp core/target/classes:variants/target/classes:variants/target/test-classes org.attn4j.variants.trainable.TrainableCost</pre>
 */
public final class TrainableCost {
    public static void main(String[] args) {
        int[] a = {8, 2, 256, 32, 1, 7};
        for (int i = 0; i < args.length && i < a.length; i++) a[i] = Integer.parseInt(args[i]);
        int b = a[0], h = a[1], n = a[2], d = a[3], threads = a[4], rounds = a[5];
        SplittableRandom r = new SplittableRandom(1);
        Tensor q = rand(r, 0.5, b, h, n, d), k = rand(r, 0.5, b, h, n, d), v = rand(r, 1, b, h, n, d), dOut = rand(r, 1, b, h, n, d);
        Map<String, TrainableAttention> all = new LinkedHashMap<>();
        for (String name : TrainableRegistry.names()) all.put(name, TrainableRegistry.create(name, Settings.empty()));
        // Extra contenders: NAME:key=value[,key=value] after the six numbers, e.g. linear:chunk=16
        for (int i = 6; i < args.length; i++) {
            String[] nv = args[i].split(":", 2);
            all.put(args[i], TrainableRegistry.create(nv[0], Settings.of(nv.length > 1 ? nv[1].split(",") : new String[0])));
        }
        Map<String, Map<String, Tensor>> weights = new HashMap<>();
        for (var e : all.entrySet()) {
            Map<String, Tensor> w = new HashMap<>();
            for (TrainableParam p : e.getValue().parameters(h, d, n)) {  // started as the training stack starts them
                float[] x = new float[p.size()];
                int cols = p.shape()[p.shape().length - 1];
                for (int i = 0; i < x.length; i++) {
                    x[i] = switch (p.init()) {
                        case ZERO -> 0f;
                        case ONE -> 1f;
                        case NORMAL -> (float) (p.std() * gaussian(r));
                        case IDENTITY -> i / cols % cols == i % cols ? 1f : 0f;
                    };
                }
                w.put(p.name(), Tensor.of(x, p.shape()));
            }
            weights.put(e.getKey(), w);
        }
        Map<String, double[]> ms = new LinkedHashMap<>();
        for (String name : all.keySet()) ms.put(name, new double[rounds]);
        for (int round = -2; round < rounds; round++) {  // two warm-up rounds
            for (var e : all.entrySet()) {
                Map<String, Tensor> w = weights.get(e.getKey()), g = new HashMap<>();
                for (var x : w.entrySet()) g.put(x.getKey(), Tensor.zeros(x.getValue().shape()));
                long t0 = System.nanoTime();
                TrainableAttention.Saved s = e.getValue().forward(q, k, v, w, threads);
                e.getValue().backward(s, dOut, g, threads);
                if (round >= 0) ms.get(e.getKey())[round] = (System.nanoTime() - t0) / 1e6;
            }
        }
        double full = median(ms.get("full"));
        System.out.printf("forward+backward, B=%d H=%d N=%d D=%d threads=%d, median of %d interleaved rounds%n", b, h, n, d, threads, rounds);
        System.out.printf("%-16s %10s %8s %s%n", "mechanism", "ms", "x full", "parameters");
        for (var e : ms.entrySet()) {
            List<TrainableParam> ps = all.get(e.getKey()).parameters(h, d, n);
            int count = ps.stream().mapToInt(TrainableParam::size).sum();
            System.out.printf("%-16s %10.1f %8.1f %d%n", e.getKey(), median(e.getValue()), median(e.getValue()) / full, count);
        }
    }

    private static double median(double[] x) {
        double[] c = x.clone();
        java.util.Arrays.sort(c);
        return c[c.length / 2];
    }

    private static Tensor rand(SplittableRandom r, double std, int... shape) {
        float[] x = new float[(int) org.attn4j.core.tensor.Layout.count(shape)];
        for (int i = 0; i < x.length; i++) x[i] = (float) (std * gaussian(r));
        return Tensor.of(x, shape);
    }

    private static double gaussian(SplittableRandom r) {
        double u1 = 1 - r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
