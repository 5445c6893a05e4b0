package org.attn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionGradients;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.ForwardBackward;
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
                "Writes the output [B, Hq, Nq, Dv] as float32; nothing is written unless everything succeeds.",
                "With --dout, also runs the backward pass (same options) and writes dq, dk, dv",
                "(and dbias) as float32. --dout needs --dq --dk --dv; --dbias needs --bias."})
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
    @Option(names = "--dout", paramLabel = "DO.npy", description = "gradient of the loss w.r.t. the output [B, Hq, Nq, Dv]: also run the backward pass") Path dout;
    @Option(names = "--dq", paramLabel = "DQ.npy", description = "with --dout: write dq [B, Hq, Nq, D]") Path dq;
    @Option(names = "--dk", paramLabel = "DK.npy", description = "with --dout: write dk [B, Hkv, Nk, D] (summed over the query heads sharing a kv head)") Path dk;
    @Option(names = "--dv", paramLabel = "DV.npy", description = "with --dout: write dv [B, Hkv, Nk, Dv] (summed likewise)") Path dv;
    @Option(names = "--dbias", paramLabel = "DB.npy", description = "with --dout and --bias: write dbias in the shape of the bias, summed over its broadcast dimensions") Path dbias;
    @Option(names = "--explain-dispatch", description = "print which kernel ran and why the others did not (and the backward's kernel with --dout)") boolean explainDispatch;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        checkGradientOptions();
        Map<String, Path> outputs = outputs();
        boolean grad = dout != null;
        AttentionSpec.Builder b = AttentionSpec.builder()
                .kernel(parseKernel(kernel)).threads(threads).returnLse(lse != null || grad).returnProbs(probs != null).alibi(alibi);
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
        if (bias != null) b.bias(read("--bias", bias), dbias != null);
        Tensor dOut = grad ? read("--dout", dout) : null;
        AttentionSpec s = b.build();
        long t0 = System.nanoTime();
        AttentionResult r;
        AttentionGradients g = null;
        if (grad) {
            ForwardBackward fb;
            try {
                fb = Attention.forwardBackward(qt, kt, vt, dOut, s);   // checks dOut's shape and values before the forward runs
            } catch (IllegalArgumentException e) {
                String m = e.getMessage();
                if (m != null && m.startsWith("dOut:")) throw new IllegalArgumentException("--dout:" + m.substring("dOut:".length()), e);
                throw e;
            }
            r = fb.forward();
            g = fb.gradients();
        } else {
            r = Attention.sdpa(qt, kt, vt, s);
        }
        long t1 = System.nanoTime();
        if (explainDispatch) {
            err.println(r.dispatch().explain());
            if (g != null) err.println("backward " + g.dispatch().explain());
            err.println(String.format(Locale.ROOT, "  time: %.2f ms%s", (t1 - t0) / 1e6, g != null ? " (forward and backward)" : ""));
        }
        Map<Path, AtomicFiles.Content> files = new LinkedHashMap<>();
        for (Map.Entry<String, Path> o : outputs.entrySet()) {
            Tensor t = switch (o.getKey()) {
                case "--out" -> r.output();
                case "--lse" -> r.lse();
                case "--probs" -> r.probs();
                case "--dq" -> g.dq();
                case "--dk" -> g.dk();
                case "--dv" -> g.dv();
                case "--dbias" -> g.dbias();
                default -> throw new IllegalStateException("unexpected output " + o.getKey());
            };
            files.put(o.getValue(), os -> Npy.write(os, t));
        }
        AtomicFiles.writeAll(files);
        return 0;
    }

    /**
     * The gradient options' contract, checked before anything is read: {@code --dout} needs all of
     * {@code --dq --dk --dv}; each of {@code --dq --dk --dv --dbias} needs {@code --dout};
     * {@code --dbias} needs {@code --bias}.
     */
    private void checkGradientOptions() {
        String[] names = {"--dq", "--dk", "--dv", "--dbias"};
        Path[] paths = {dq, dk, dv, dbias};
        if (dout == null) {
            for (int i = 0; i < names.length; i++) {
                if (paths[i] != null) {
                    throw new IllegalArgumentException(names[i] + ": needs --dout (the gradient of the loss with respect to the output)");
                }
            }
            return;
        }
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < 3; i++) if (paths[i] == null) missing.add(names[i]);
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("--dout: needs --dq, --dk and --dv (where the gradients go); missing " + String.join(", ", missing));
        }
        if (dbias != null && bias == null) throw new IllegalArgumentException("--dbias: needs --bias (there is no bias to differentiate)");
    }

    /** The output files by option, in writing order; no two options may name the same file. */
    private Map<String, Path> outputs() {
        Map<String, Path> outputs = new LinkedHashMap<>();
        outputs.put("--out", out);
        if (lse != null) outputs.put("--lse", lse);
        if (probs != null) outputs.put("--probs", probs);
        if (dout != null) {
            outputs.put("--dq", dq);
            outputs.put("--dk", dk);
            outputs.put("--dv", dv);
            if (dbias != null) outputs.put("--dbias", dbias);
        }
        Map<Path, String> seen = new HashMap<>();
        for (Map.Entry<String, Path> o : outputs.entrySet()) {
            String first = seen.putIfAbsent(o.getValue().toAbsolutePath().normalize(), o.getKey());
            if (first != null) {
                throw new IllegalArgumentException(o.getKey() + ": " + o.getValue() + " is also the file of " + first + "; every output needs its own file");
            }
        }
        return outputs;
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
