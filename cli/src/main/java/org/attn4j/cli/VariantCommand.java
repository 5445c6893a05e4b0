package org.attn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.attn4j.core.io.Npy;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j variant NAME}: runs one registered variant on .npy inputs. */
@Command(name = "variant", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs one registered attention variant on .npy inputs (see 'attn4j variants list').",
                "q is [B, H, N, D], k [B, Hkv, N, D], v [B, Hkv, N, Dv] (float32 or float64, C order); spatial variants read N",
                "as a grid (--set grid=64x64). Learned parameters come from --seed. Nothing is written unless the run succeeds."})
final class VariantCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "registry name, e.g. neighborhood-2d") String name;
    @Option(names = "--q", required = true, paramLabel = "Q.npy", description = "queries [B, H, N, D]") Path q;
    @Option(names = "--k", required = true, paramLabel = "K.npy", description = "keys [B, Hkv, N, D]") Path k;
    @Option(names = "--v", required = true, paramLabel = "V.npy", description = "values [B, Hkv, N, Dv]") Path v;
    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "a hyper-parameter; repeatable ('attn4j variants describe NAME' lists them)") List<String> settings;
    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "seed of the learned parameters (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--threads", paramLabel = "T", defaultValue = "0", description = "worker threads (default: all cores)") int threads;
    @Option(names = "--out", required = true, paramLabel = "O.npy", description = "output, float32") Path out;
    @Option(names = "--verbose", description = "print the time taken and the FLOPs executed") boolean verbose;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        if (threads < 0) throw new IllegalArgumentException("--threads: expected >= 0, got " + threads);
        // Settings are checked before any file is read, so a typo costs nothing.
        Variant variant = VariantRegistry.create(name, Settings.parse(settings == null ? List.of() : settings), seed);
        Tensor qt = SdpaCommand.read("--q", q), kt = SdpaCommand.read("--k", k), vt = SdpaCommand.read("--v", v);
        long t0 = System.nanoTime();
        VariantResult r = variant.run(qt, kt, vt, threads);
        long t1 = System.nanoTime();
        if (verbose) {
            err.printf(Locale.ROOT, "%s: %.2f ms, %.3f GFLOP executed%n", name, (t1 - t0) / 1e6, r.flops() / 1e9);
            err.flush();
        }
        AtomicFiles.write(out, os -> Npy.write(os, r.output()));
        return 0;
    }
}
