package org.attn4j.bench.jmh;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionGradients;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.ForwardBackward;
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
 * JMH view of the backward pass (run with {@code ./attn4j jmh SdpaBackwardBenchmark}): the tiled
 * backward alone ({@link #backward}, on the output and lse of one forward made in the setup) and a
 * whole training step of the op ({@link #forwardBackward}). {@code attn4j bench sdpa --backward}
 * reports the same shapes with GFLOP/s, % of peak and PyTorch beside them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SdpaBackwardBenchmark {
    /** B,H,Nq,Nk,D. */
    @Param({"1,8,2048,2048,64"})
    public String shape;

    @Param({"false", "true"})
    public boolean causal;

    @Param({"1", "2"})
    public int threads;

    private Tensor q, k, v, dOut;
    private AttentionResult forward;
    private AttentionSpec spec;

    @Setup
    public void setUp() {
        String[] p = shape.split(",");
        int b = Integer.parseInt(p[0]), h = Integer.parseInt(p[1]), nq = Integer.parseInt(p[2]), nk = Integer.parseInt(p[3]), d = Integer.parseInt(p[4]);
        Random r = new Random(1);
        q = SdpaBenchmark.random(r, b, h, nq, d);
        k = SdpaBenchmark.random(r, b, h, nk, d);
        v = SdpaBenchmark.random(r, b, h, nk, d);
        dOut = SdpaBenchmark.random(r, b, h, nq, d);
        AttentionSpec.Builder s = AttentionSpec.builder().kernel(KernelChoice.AUTO).threads(threads).validate(false).returnLse(true);
        if (causal) s.causal(CausalAlignment.BOTTOM_RIGHT);
        spec = s.build();
        forward = Attention.sdpa(q, k, v, spec);
    }

    /** dQ, dK, dV from the saved output and lse (FLOPs: 2.5 × the forward's). */
    @Benchmark
    public AttentionGradients backward() {
        return Attention.backward(q, k, v, forward.output(), forward.lse(), dOut, spec);
    }

    /** The forward with its lse, then the backward (FLOPs: 3.5 × the forward's). */
    @Benchmark
    public ForwardBackward forwardBackward() {
        return Attention.forwardBackward(q, k, v, dOut, spec);
    }
}
