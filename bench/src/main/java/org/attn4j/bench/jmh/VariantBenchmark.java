package org.attn4j.bench.jmh;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantRegistry;
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
 * JMH view of registered variants (run with {@code ./attn4j jmh VariantBenchmark}, or e.g.
 * {@code ./attn4j jmh VariantBenchmark -p variant=neighborhood-1d -p settings=kernel=256 -p n=32768}).
 * {@code attn4j bench variants} reports the same runs with speed-up, FLOPs and error against
 * exact attention.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class VariantBenchmark {
    @Param({"full", "neighborhood-2d", "moba", "linear"})
    public String variant;

    /** Settings as {@code key=value} separated by {@code ;} (empty: defaults). */
    @Param({""})
    public String settings;

    @Param({"4096"})
    public int n;

    @Param({"4"})
    public int heads;

    @Param({"64"})
    public int d;

    @Param({"2"})
    public int threads;

    private Tensor q, k, v;
    private Variant impl;

    @Setup
    public void setUp() {
        List<String> pairs = settings.isEmpty() ? List.of() : Arrays.asList(settings.split(";"));
        impl = VariantRegistry.create(variant, Settings.parse(pairs), 1);
        Random r = new Random(1);
        q = SdpaBenchmark.random(r, 1, heads, n, d);
        k = SdpaBenchmark.random(r, 1, heads, n, d);
        v = SdpaBenchmark.random(r, 1, heads, n, d);
    }

    @Benchmark
    public Tensor run() {
        return impl.run(q, k, v, threads).output();
    }
}
