package org.attn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.io.Npy;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j sdpa}: attention over .npy files. */
@Command(name = "sdpa", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Scaled-dot-product attention over .npy files.",
                "q is [B, Hq, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] (float32 or float64, C order).",
                "Writes the output [B, Hq, Nq, Dv] as float32; nothing is written unless everything succeeds."})
final class SdpaCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--q", required = true, paramLabel = "Q.npy", description = "queries [B, Hq, Nq, D]") Path q;
    @Option(names = "--k", required = true, paramLabel = "K.npy", description = "keys [B, Hkv, Nk, D]") Path k;
    @Option(names = "--v", required = true, paramLabel = "V.npy", description = "values [B, Hkv, Nk, Dv]") Path v;
    @Option(names = "--mask", paramLabel = "M.npy", description = "boolean/uint8 mask broadcastable to [B, Hq, Nq, Nk], true = attend") Path mask;
    @Option(names = "--bias", paramLabel = "B.npy", description = "additive float bias broadcastable to [B, Hq, Nq, Nk] (-inf allowed)") Path bias;
    @Option(names = "--causal", paramLabel = "ALIGN", description = "top-left (j <= i) or bottom-right (j <= i + Nk - Nq)") String causal;
    @Option(names = "--window", paramLabel = "L,R", description = "sliding window around the bottom-right diagonal; 'inf' for an unbounded side") String window;
    @Option(names = "--alibi", description = "ALiBi with slopes 2^(-8h/H)") boolean alibi;
    @Option(names = "--softcap", paramLabel = "C", description = "logit soft-cap C*tanh(s/C)") Float softcap;
    @Option(names = "--scale", paramLabel = "S", description = "logit scale (default 1/sqrt(D))") Float scale;
    @Option(names = "--kv-lengths", paramLabel = "N,N,...", split = ",", description = "valid key count per batch entry") int[] kvLengths;
    @Option(names = "--q-lengths", paramLabel = "N,N,...", split = ",", description = "valid query count per batch entry") int[] qLengths;
    @Option(names = "--kernel", paramLabel = "K", defaultValue = "auto", description = "auto, reference, flash or decode (default: ${DEFAULT-VALUE})") String kernel;
    @Option(names = "--threads", paramLabel = "T", defaultValue = "0", description = "worker threads (default: all cores)") int threads;
    @Option(names = "--out", required = true, paramLabel = "O.npy", description = "output [B, Hq, Nq, Dv] float32") Path out;
    @Option(names = "--lse", paramLabel = "LSE.npy", description = "also write log-sum-exp [B, Hq, Nq] (natural log)") Path lse;
    @Option(names = "--probs", paramLabel = "P.npy", description = "also write probabilities [B, Hq, Nq, Nk] (reference kernel, O(N^2) memory)") Path probs;
    @Option(names = "--explain-dispatch", description = "print which kernel ran and why the others did not") boolean explainDispatch;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        AttentionSpec.Builder b = AttentionSpec.builder()
                .kernel(parseKernel(kernel)).threads(threads).returnLse(lse != null).returnProbs(probs != null).alibi(alibi);
        if (causal != null) b.causal(parseCausal(causal));
        if (window != null) {
            int[] w = parseWindow(window);
            b.window(w[0], w[1]);
        }
        if (softcap != null) b.softcap(softcap);
        if (scale != null) b.scale(scale);
        if (kvLengths != null) b.kvLengths(kvLengths);
        if (qLengths != null) b.qLengths(qLengths);
        Tensor qt = read("--q", q), kt = read("--k", k), vt = read("--v", v);
        if (mask != null) b.mask(Npy.readBool(exists("--mask", mask)));
        if (bias != null) b.bias(read("--bias", bias));
        long t0 = System.nanoTime();
        AttentionResult r = Attention.sdpa(qt, kt, vt, b.build());
        long t1 = System.nanoTime();
        if (explainDispatch) {
            err.println(r.dispatch().explain());
            err.println(String.format(Locale.ROOT, "  time: %.2f ms", (t1 - t0) / 1e6));
        }
        List<Path[]> moves = new ArrayList<>();
        try {
            moves.add(new Path[] {stage(out, r.output()), out});
            if (lse != null) moves.add(new Path[] {stage(lse, r.lse()), lse});
            if (probs != null) moves.add(new Path[] {stage(probs, r.probs()), probs});
            for (Path[] m : moves) Files.move(m[0], m[1], StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            for (Path[] m : moves) Files.deleteIfExists(m[0]);
        }
        return 0;
    }

    /** Writes next to the target under a temporary name; the caller moves it into place. */
    private static Path stage(Path target, Tensor t) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null && !Files.isDirectory(dir)) throw new IOException(target + ": directory " + dir + " does not exist");
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".attn4j-" + ProcessHandle.current().pid() + ".tmp");
        Npy.write(tmp, t);
        return tmp;
    }

    private static Path exists(String option, Path p) {
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException(option + ": file " + p + " does not exist");
        return p;
    }

    /** A float tensor from a .npy file; errors name the option (shared by the commands that read .npy inputs). */
    static Tensor read(String option, Path p) throws IOException {
        exists(option, p);
        try {
            return Npy.readFloat(p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
    }

    static KernelChoice parseKernel(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "auto" -> KernelChoice.AUTO;
            case "reference" -> KernelChoice.REFERENCE;
            case "flash" -> KernelChoice.FLASH;
            case "decode" -> KernelChoice.DECODE;
            default -> throw new IllegalArgumentException("--kernel: expected auto, reference, flash or decode, got '" + s + "'");
        };
    }

    static CausalAlignment parseCausal(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "top-left" -> CausalAlignment.TOP_LEFT;
            case "bottom-right" -> CausalAlignment.BOTTOM_RIGHT;
            default -> throw new IllegalArgumentException("--causal: expected top-left or bottom-right, got '" + s + "'");
        };
    }

    static int[] parseWindow(String s) {
        String[] parts = s.split(",", -1);
        if (parts.length != 2) throw new IllegalArgumentException("--window: expected L,R (e.g. 128,0 or inf,0), got '" + s + "'");
        int[] w = new int[2];
        for (int i = 0; i < 2; i++) {
            String p = parts[i].trim();
            if (p.equalsIgnoreCase("inf") || p.isEmpty()) w[i] = AttentionSpec.UNBOUNDED;
            else {
                try {
                    w[i] = Integer.parseInt(p);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--window: expected whole numbers or 'inf', got '" + s + "'");
                }
                if (w[i] < 0) throw new IllegalArgumentException("--window: sides must be >= 0, got '" + s + "'");
            }
        }
        return w;
    }
}
