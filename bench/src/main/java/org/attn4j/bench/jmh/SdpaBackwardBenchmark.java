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
 * reports the same shapes with GFLOP/s, % of peak and PyTorch beside them. A smaller shape:
 * {@code ./attn4j jmh SdpaBackwardBenchmark -p n=512 -p threads=1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SdpaBackwardBenchmark {
    /** Separate parameters, not one "B,H,N,D" string: JMH's {@code -p name=a,b} splits values at commas. */
    @Param({"1"})
    public int batch;

    @Param({"8"})
    public int heads;

    /** Nq = Nk. */
    @Param({"2048"})
    public int n;

    @Param({"64"})
    public int d;

    @Param({"false", "true"})
    public boolean causal;

    @Param({"1", "2"})
    public int threads;

    private Tensor q, k, v, dOut;
    private AttentionResult forward;
    private AttentionSpec spec;

    @Setup
    public void setUp() {
        Random r = new Random(1);
        q = SdpaBenchmark.random(r, batch, heads, n, d);
        k = SdpaBenchmark.random(r, batch, heads, n, d);
        v = SdpaBenchmark.random(r, batch, heads, n, d);
        dOut = SdpaBenchmark.random(r, batch, heads, n, d);
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
