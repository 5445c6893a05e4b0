package org.attn4j.bench.jmh;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH view of the flash and decode kernels (run with {@code ./attn4j jmh SdpaBenchmark}).
 * {@code attn4j bench sdpa} reports the same shapes with GFLOP/s and % of peak.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SdpaBenchmark {
    /** B,H,Nq,Nk,D. */
    @Param({"1,8,2048,2048,64", "1,32,1,65536,128"})
    public String shape;

    @Param({"false", "true"})
    public boolean causal;

    @Param({"1", "2"})
    public int threads;

    private Tensor q, k, v;
    private AttentionSpec spec;

    @Setup
    public void setUp() {
        String[] p = shape.split(",");
        int b = Integer.parseInt(p[0]), h = Integer.parseInt(p[1]), nq = Integer.parseInt(p[2]), nk = Integer.parseInt(p[3]), d = Integer.parseInt(p[4]);
        Random r = new Random(1);
        q = random(r, b, h, nq, d);
        k = random(r, b, h, nk, d);
        v = random(r, b, h, nk, d);
        AttentionSpec.Builder s = AttentionSpec.builder().kernel(KernelChoice.AUTO).threads(threads).validate(false);
        if (causal) s.causal(CausalAlignment.BOTTOM_RIGHT);
        spec = s.build();
    }

    /** A tensor of N(0, 1) values (shared with the other JMH benchmarks of this package). */
    static Tensor random(Random r, int... shape) {
        int n = 1;
        for (int x : shape) n *= x;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return Tensor.of(a, shape);
    }

    @Benchmark
    public Tensor sdpa() {
        return Attention.sdpa(q, k, v, spec).output();
    }
}
