package org.attn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.attn4j.bench.sdpa.SdpaBackwardBench;
import org.attn4j.bench.sdpa.SdpaBench;
import org.attn4j.bench.sdpa.SdpaShape;
import org.attn4j.core.simd.MicroKernels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j bench ...}: benchmarks. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks (not tests): median times, GFLOP/s, % of the measured FMA peak.",
        subcommands = {BenchCommand.Sdpa.class, BenchCommand.Embed.class, BenchCommand.EmbedTexts.class, BenchCommand.Variants.class,
                BenchCommand.Train.class, BenchCommand.Serve.class, BenchCommand.Kv.class, BenchCommand.KvRecall.class})
final class BenchCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "embed", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Times all-MiniLM-L6-v2's encoder in sentences/s (and ONNX Runtime on the same ONNX file when built with -Ppeers),",
                    "same thread count, side by side. Inputs are token ids of exactly the given length."})
    static final class Embed implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--shape", paramLabel = "BATCH,TOKENS", description = "repeatable (default: 32,128 1,16 8,512)") List<String> shapes;
        @Option(names = "--threads", paramLabel = "T,T,...", split = ",", description = "thread counts (default: 1 and all cores)") int[] threads;
        @Option(names = "--no-peers", description = "skip peers even when they are on the class path") boolean noPeers;
        @Option(names = "--min-seconds", paramLabel = "S", defaultValue = "3", description = "time each row for at least S seconds (default: ${DEFAULT-VALUE})") double minSeconds;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            int[][] list;
            if (shapes == null || shapes.isEmpty()) list = org.attn4j.bench.embed.EmbedBench.DEFAULT_SHAPES;
            else {
                list = new int[shapes.size()][];
                for (int i = 0; i < shapes.size(); i++) {
                    String[] p = shapes.get(i).split(",");
                    try {
                        list[i] = new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
                    } catch (RuntimeException e) {
                        throw new IllegalArgumentException("--shape: expected BATCH,TOKENS, got '" + shapes.get(i) + "' (" + e.getMessage() + ")", e);
                    }
                    if (p.length != 2 || list[i][0] < 1 || list[i][1] < 1 || list[i][1] > 512) {
                        throw new IllegalArgumentException("--shape: expected BATCH >= 1 and TOKENS in 1..512, got '" + shapes.get(i) + "'");
                    }
                }
            }
            int cores = Runtime.getRuntime().availableProcessors();
            int[] t = threads != null ? threads : (cores > 1 ? new int[] {1, cores} : new int[] {1});
            var bench = new org.attn4j.bench.embed.EmbedBench(msg -> err.println("  " + msg));
            var rows = bench.run(list, t, !noPeers, minSeconds, 5);
            out.print(org.attn4j.bench.embed.EmbedBench.table(rows));
            out.flush();
            return 0;
        }
    }

    @Command(name = "embed-texts", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Times texts -> embeddings end to end with all-MiniLM-L6-v2 (tokenizer, encoder, pooling): attn4j's Embedder,",
                    "and with -Ppeers langchain4j's ONNX Runtime AllMiniLmL6V2EmbeddingModel and attn4j through langchain4j's",
                    "EmbeddingModel; warmed, then interleaved, on the shipped paraphrase sentences; checks the peers' vectors."})
    static final class EmbedTexts implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--threads", paramLabel = "T,T,...", split = ",", description = "thread counts (default: 1 and all cores)") int[] threads;
        @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "texts per forward pass (default: ${DEFAULT-VALUE})") int batch;
        @Option(names = "--texts", paramLabel = "N", description = "embed the first N of the shipped sentences (default: all 218)") Integer texts;
        @Option(names = "--no-peers", description = "skip peers even when they are on the class path") boolean noPeers;
        @Option(names = "--warmup", paramLabel = "S", defaultValue = "3", description = "untimed seconds per contender before timing (default: ${DEFAULT-VALUE})") double warmup;
        @Option(names = "--min-seconds", paramLabel = "S", defaultValue = "6", description = "time each contender for at least S seconds (default: ${DEFAULT-VALUE})") double minSeconds;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            var pairs = org.attn4j.explain.importance.Paraphrases.load();
            List<String> all = new java.util.ArrayList<>(org.attn4j.explain.importance.Paraphrases.sentences(pairs));
            all.addAll(org.attn4j.explain.importance.Paraphrases.paraphrases(pairs));
            if (texts != null && (texts < 1 || texts > all.size())) {
                throw new IllegalArgumentException("--texts: expected 1.." + all.size() + ", got " + texts);
            }
            List<String> list = texts == null ? all : all.subList(0, texts);
            int cores = Runtime.getRuntime().availableProcessors();
            int[] t = threads != null ? threads : (cores > 1 ? new int[] {1, cores} : new int[] {1});
            org.attn4j.bench.embed.TextEmbedBench.Options o;
            try {
                o = new org.attn4j.bench.embed.TextEmbedBench.Options(t, batch, !noPeers, warmup, minSeconds, 5);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--" + e.getMessage(), e);
            }
            var rows = new org.attn4j.bench.embed.TextEmbedBench(msg -> err.println("  " + msg)).run(list, o);
            out.print(org.attn4j.bench.embed.TextEmbedBench.table(rows));
            out.flush();
            return 0;
        }
    }

    @Command(name = "sdpa", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Times attention kernels (and peers built with -Ppeers) side by side on the same threads.",
                    "Without --shape it runs the default set, which includes the README's targets."})
    static final class Sdpa implements Callable<Integer> {
        /** Outputs are O(1) (gaussian values); the kernels' contract is 1e-5 + 1e-5·|ref|. */
        static final double CHECK_TOLERANCE = 2e-5;

        @Spec CommandSpec spec;

        @Option(names = "--shape", paramLabel = "B,H,N,D", description = "shape; repeatable; B,H,NQ,NK,D for Nq != Nk") List<String> shapes;
        @Option(names = "--kv-heads", paramLabel = "HKV", description = "key/value heads (GQA); default = H") Integer kvHeads;
        @Option(names = "--causal", description = "bottom-right causal mask") boolean causal;
        @Option(names = "--threads", paramLabel = "T,T,...", split = ",", description = "thread counts (default: 1 and all cores)") int[] threads;
        @Option(names = "--kernel", paramLabel = "K", defaultValue = "auto", description = "auto, reference, flash or decode (default: ${DEFAULT-VALUE})") String kernel;
        @Option(names = "--json", paramLabel = "FILE", description = "also write the rows as a JSON array") Path json;
        @Option(names = "--no-peers", description = "skip peer libraries even when they are on the class path") boolean noPeers;
        @Option(names = "--no-check", description = "skip the error checks (float64 reference; with --backward also the peers and identities)") boolean noCheck;
        @Option(names = "--quick", description = "fewer repetitions and, without --shape, a shorter shape set (a demonstration, not a measurement)") boolean quick;
        @Option(names = "--min-seconds", paramLabel = "S", defaultValue = "2", description = "time each row for at least S seconds (default: ${DEFAULT-VALUE})") double minSeconds;
        @Option(names = "--backward", description = "time the backward pass: forward+backward and the backward alone, attn4j and peers "
                + "(PyTorch's SDPA autograd with -Ppeers) interleaved; checks dq, dk, dv against the float64 reference, the peers "
                + "and gradient identities. Defaults: B=1 H=8 N=2048 D=64 non-causal and causal, 1 and 2 threads (--quick: N=512)") boolean backward;
        @Option(names = "--warmup", paramLabel = "S", description = "with --backward: untimed seconds per contender before each row, "
                + "longer while its speed still improves (default: 2, --quick 0.3)") Double warmup;

        @Override
        public Integer call() throws IOException {
            if (minSeconds < 0) throw new IllegalArgumentException("--min-seconds: expected >= 0, got " + minSeconds);
            if (warmup != null && !backward) throw new IllegalArgumentException("--warmup: only with --backward");
            if (warmup != null && !(warmup >= 0)) throw new IllegalArgumentException("--warmup: expected >= 0, got " + warmup);
            if (backward) return callBackward();
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            List<SdpaShape> list = new ArrayList<>();
            if (shapes == null || shapes.isEmpty()) {
                if (kvHeads != null || causal) throw new IllegalArgumentException("--kv-heads/--causal: need --shape (the default set fixes its own)");
                list.addAll(quick ? SdpaBench.quickShapes() : SdpaBench.defaultShapes());
            } else {
                for (String s : shapes) list.add(SdpaShape.parse(s, kvHeads, causal));
            }
            int cores = Runtime.getRuntime().availableProcessors();
            int[] t = threads != null ? threads : (cores > 1 ? new int[] {1, cores} : new int[] {1});
            for (int x : t) if (x < 1) throw new IllegalArgumentException("--threads: expected >= 1, got " + x);
            err.println("micro-kernels: " + MicroKernels.reason());
            SdpaBench bench = new SdpaBench(msg -> err.println("  " + msg));
            double seconds = quick ? 0.3 : minSeconds;
            SdpaBench.Options o = new SdpaBench.Options(list, t, SdpaCommand.parseKernel(kernel), !noPeers, quick ? 3 : 5, seconds, !noCheck);
            List<SdpaBench.Row> rows = bench.run(o);
            double[] peaks = rows.isEmpty() ? new double[0] : bench.lastPeaks();
            out.print(SdpaBench.table(rows, t, peaks));
            if (json != null) writeJson(json, rows);
            if (!noCheck) {
                double worst = rows.stream().filter(r -> r.impl().equals("attn4j") && !Double.isNaN(r.maxAbsError()))
                        .mapToDouble(SdpaBench.Row::maxAbsError).max().orElse(Double.NaN);
                long checked = rows.stream().filter(r -> r.impl().equals("attn4j") && !Double.isNaN(r.maxAbsError())).count();
                if (checked > 0) {
                    boolean ok = worst <= CHECK_TOLERANCE;
                    out.printf(java.util.Locale.ROOT, "correctness: max |attn4j - float64 reference| = %.1e on %d row(s) (tolerance %.0e): %s%n",
                            worst, checked, CHECK_TOLERANCE, ok ? "OK" : "FAILED");
                    out.flush();
                    if (!ok) return 1;
                }
            }
            out.flush();
            return 0;
        }

        /** {@code --backward}: the backward pass's bench. */
        private Integer callBackward() throws IOException {
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            List<SdpaShape> list = new ArrayList<>();
            if (shapes == null || shapes.isEmpty()) {
                if (kvHeads != null || causal) throw new IllegalArgumentException("--kv-heads/--causal: need --shape (the default set fixes its own)");
                list.addAll(quick ? SdpaBackwardBench.quickShapes() : SdpaBackwardBench.defaultShapes());
            } else {
                for (String s : shapes) list.add(SdpaShape.parse(s, kvHeads, causal));
            }
            int[] t = threads != null ? threads : SdpaBackwardBench.defaultThreads();
            for (int x : t) if (x < 1) throw new IllegalArgumentException("--threads: expected >= 1, got " + x);
            err.println("micro-kernels: " + MicroKernels.reason());
            double seconds = quick ? 0.3 : minSeconds;
            double warm = warmup != null ? warmup : quick ? 0.3 : 2;
            var o = new SdpaBackwardBench.Options(list, t, SdpaCommand.parseKernel(kernel), !noPeers, quick ? 3 : 5, seconds, warm, !noCheck);
            SdpaBackwardBench.Result result = new SdpaBackwardBench(msg -> err.println("  " + msg)).run(o);
            out.print(SdpaBackwardBench.report(result));
            out.println(SdpaBackwardBench.heapLine());
            if (json != null) writeBackwardJson(json, result);
            boolean ok = result.checks().stream().allMatch(SdpaBackwardBench.Check::ok);
            if (!result.checks().isEmpty()) {
                out.printf(java.util.Locale.ROOT, "correctness: %d check(s): %s%n", result.checks().size(), ok ? "OK" : "FAILED");
            }
            out.flush();
            return ok ? 0 : 1;
        }

        static void writeBackwardJson(Path file, SdpaBackwardBench.Result result) throws IOException {
            ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ArrayNode arr = om.createArrayNode();
            for (SdpaBackwardBench.Row r : result.rows()) {
                ObjectNode n = arr.addObject();
                SdpaShape s = r.shape();
                n.put("B", s.b()).put("Hq", s.hq()).put("Hkv", s.hkv()).put("Nq", s.nq()).put("Nk", s.nk()).put("D", s.d());
                n.put("Dv", s.dv()).put("causal", s.causal()).put("pass", r.pass().json).put("impl", r.impl()).put("kernel", r.kernel())
                        .put("threads", r.threads()).put("flops", r.flops()).put("load_before", result.loadBefore())
                        .put("load_after", result.loadAfter()).put("heap_pretouched", result.heapPretouched());
                for (int i = 0; i < result.threads().length; i++) if (result.threads()[i] == r.threads()) n.put("peak_gflops", result.peaks()[i]);
                if (r.time() != null) {
                    SdpaBackwardBench.Timing t = r.time();
                    n.put("median_ms", t.medianMs()).put("p25_ms", t.p25Ms()).put("p75_ms", t.p75Ms()).put("min_ms", t.minMs())
                            .put("max_ms", t.maxMs()).put("samples", t.samples()).put("gflops", r.gflops()).put("peak_fraction", r.peakFraction());
                }
                if (r.extraBytes() >= 0) n.put("extra_bytes", r.extraBytes());
                if (r.attn4jSpeedup() != null) n.put("attn4j_speedup", r.attn4jSpeedup());
                if (!r.note().isEmpty()) n.put("note", r.note());
                if (r.impl().equals("attn4j")) {
                    ArrayNode cs = n.putArray("checks");
                    for (SdpaBackwardBench.Check c : result.checks()) {
                        if (!c.shape().equals(s) || (c.threads() != 0 && c.threads() != r.threads())) continue;
                        SdpaBackwardBench.GradError e = c.error();
                        cs.addObject().put("against", c.against()).put("dq_max_abs", e.dqAbs()).put("dq_rel", e.dqRel())
                                .put("dk_max_abs", e.dkAbs()).put("dk_rel", e.dkRel()).put("dv_max_abs", e.dvAbs()).put("dv_rel", e.dvRel())
                                .put("tolerance", c.tolerance()).put("ok", c.ok());
                    }
                }
            }
            AtomicFiles.write(file, os -> om.writeValue(os, arr));
        }

        static void writeJson(Path file, List<SdpaBench.Row> rows) throws IOException {
            ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ArrayNode arr = om.createArrayNode();
            for (SdpaBench.Row r : rows) {
                ObjectNode n = arr.addObject();
                SdpaShape s = r.shape();
                n.put("B", s.b()).put("Hq", s.hq()).put("Hkv", s.hkv()).put("Nq", s.nq()).put("Nk", s.nk()).put("D", s.d());
                n.put("Dv", s.dv()).put("causal", s.causal()).put("impl", r.impl()).put("kernel", r.kernel()).put("threads", r.threads());
                n.put("median_ms", r.medianMs()).put("gflops", r.gflops()).put("peak_fraction", r.peakFraction());
                if (r.extraBytes() >= 0) n.put("extra_bytes", r.extraBytes());
                if (!Double.isNaN(r.maxAbsError())) n.put("max_abs_error", r.maxAbsError());
                if (r.attn4jSpeedup() != null) n.put("attn4j_speedup", r.attn4jSpeedup());
            }
            AtomicFiles.write(file, os -> om.writeValue(os, arr));
        }
    }

    @Command(name = "variants", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Times registered variants against exact attention (the engine's flash kernel; causal for causal variants)",
                    "on the same random inputs [B, H, N, D] and threads, in interleaved rounds. Per variant and N: ms, speed-up,",
                    "FLOPs executed and their share of exact attention's, and the relative error ||variant - exact|| / ||exact||.",
                    "With two or more --n values it also reports where each variant overtakes exact attention."})
    static final class Variants implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--n", paramLabel = "N,N,...", split = ",", defaultValue = "4096", description = "sequence lengths (default: ${DEFAULT-VALUE}); spatial variants use a square/cube grid unless --set NAME:grid=...") int[] ns;
        @Option(names = "--d", paramLabel = "D", defaultValue = "64", description = "head dimension (default: ${DEFAULT-VALUE})") int d;
        @Option(names = "--heads", paramLabel = "H", defaultValue = "4", description = "heads (default: ${DEFAULT-VALUE})") int heads;
        @Option(names = "--batch", paramLabel = "B", defaultValue = "1", description = "batch (default: ${DEFAULT-VALUE})") int batch;
        @Option(names = "--names", paramLabel = "NAME,...", split = ",", description = "variants to run (default: all)") List<String> names;
        @Option(names = "--set", paramLabel = "NAME:KEY=VALUE", description = "a hyper-parameter of one variant; repeatable (e.g. neighborhood-1d:kernel=256)") List<String> settings;
        @Option(names = "--threads", paramLabel = "T,T,...", split = ",", description = "thread counts (default: all cores)") int[] threads;
        @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "seed of the inputs and learned parameters (default: ${DEFAULT-VALUE})") long seed;
        @Option(names = "--min-seconds", paramLabel = "S", defaultValue = "1", description = "time each contender for at least S seconds (default: ${DEFAULT-VALUE})") double minSeconds;
        @Option(names = "--reps", paramLabel = "R", defaultValue = "3", description = "at least R timed runs per contender (default: ${DEFAULT-VALUE})") int reps;
        @Option(names = "--warmup", paramLabel = "S", defaultValue = "2", description = "untimed seconds per contender before the first row, for the JIT (default: ${DEFAULT-VALUE})") double warmup;
        @Option(names = "--json", paramLabel = "FILE", description = "also write the rows as a JSON array") Path json;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            for (int n : ns) if (n < 1) throw new IllegalArgumentException("--n: expected >= 1, got " + n);
            if (d < 1) throw new IllegalArgumentException("--d: expected >= 1, got " + d);
            if (heads < 1) throw new IllegalArgumentException("--heads: expected >= 1, got " + heads);
            if (batch < 1) throw new IllegalArgumentException("--batch: expected >= 1, got " + batch);
            if (reps < 1) throw new IllegalArgumentException("--reps: expected >= 1, got " + reps);
            if (warmup < 0) throw new IllegalArgumentException("--warmup: expected >= 0, got " + warmup);
            int[] t = threads != null ? threads : new int[] {Runtime.getRuntime().availableProcessors()};
            for (int x : t) if (x < 1) throw new IllegalArgumentException("--threads: expected >= 1, got " + x);
            java.util.Map<String, List<String>> per = new java.util.LinkedHashMap<>();
            if (settings != null) {
                for (String s : settings) {
                    int colon = s.indexOf(':');
                    if (colon <= 0 || s.indexOf('=') < colon) throw new IllegalArgumentException("--set: expected NAME:KEY=VALUE, got '" + s + "'");
                    per.computeIfAbsent(s.substring(0, colon), x -> new ArrayList<>()).add(s.substring(colon + 1));
                }
            }
            var o = new org.attn4j.bench.variants.VariantBench.Options(names == null ? List.of() : names, ns, batch, heads, d, t, per, seed,
                    minSeconds, reps, warmup);
            org.attn4j.bench.variants.VariantBench.selected(o);
            err.println("micro-kernels: " + MicroKernels.reason());
            var rows = new org.attn4j.bench.variants.VariantBench(msg -> err.println("  " + msg)).run(o);
            out.printf(java.util.Locale.ROOT, "B=%d H=%d D=%d, inputs N(0,1), seed %d%n", batch, heads, d, seed);
            out.print(org.attn4j.bench.variants.VariantBench.table(rows));
            if (ns.length > 1) {
                for (int x : t) {
                    var cross = org.attn4j.bench.variants.VariantBench.crossovers(rows, x);
                    if (cross.isEmpty()) continue;
                    out.printf("crossover vs exact attention on %d thread(s):%n", x);
                    cross.forEach((name, text) -> out.printf("  %-24s %s%n", name, text));
                }
            }
            out.flush();
            if (json != null) {
                ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                ArrayNode arr = om.createArrayNode();
                for (var r : rows) {
                    ObjectNode n = arr.addObject();
                    n.put("variant", r.name()).put("family", r.family()).put("exact", r.exact()).put("causal", r.causal()).put("N", r.n())
                            .put("threads", r.threads()).put("B", batch).put("H", heads).put("D", d);
                    if (!Double.isNaN(r.ms())) {
                        n.put("ms", r.ms()).put("exact_ms", r.denseMs()).put("speedup", r.speedup()).put("flops", r.flops())
                                .put("exact_flops", r.denseFlops());
                        if (!Double.isNaN(r.relError())) n.put("relative_error", r.relError());
                    }
                    if (!r.note().isEmpty()) n.put("note", r.note());
                }
                AtomicFiles.write(json, os -> om.writeValue(os, arr));
            }
            return 0;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Times whole training steps (forward, backward, clipping, AdamW) of a GPT-style model with exact attention",
                    "on MQAR batches: tokens/s, model FLOP utilisation against the FMA peak measured in the same run,",
                    "peak heap and bytes allocated per step. Defaults: issue 11's target shape."})
    static final class Train implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--threads", paramLabel = "T,T,...", split = ",", defaultValue = "1,2", description = "thread counts (default: ${DEFAULT-VALUE})") int[] threads;
        @Option(names = "--layers", defaultValue = "2", description = "default: ${DEFAULT-VALUE}") int layers;
        @Option(names = "--d-model", defaultValue = "256", description = "default: ${DEFAULT-VALUE}") int dModel;
        @Option(names = "--heads", defaultValue = "4", description = "default: ${DEFAULT-VALUE}") int heads;
        @Option(names = "--seq-len", defaultValue = "256", description = "default: ${DEFAULT-VALUE}") int seqLen;
        @Option(names = "--batch", defaultValue = "32", description = "default: ${DEFAULT-VALUE}") int batch;
        @Option(names = "--vocab", defaultValue = "8192", description = "default: ${DEFAULT-VALUE}") int vocab;
        @Option(names = "--kv-pairs", defaultValue = "16", description = "MQAR pairs, i.e. loss rows per sequence (default: ${DEFAULT-VALUE})") int kvPairs;
        @Option(names = "--warmup", defaultValue = "3", description = "untimed steps first (default: ${DEFAULT-VALUE})") int warmup;
        @Option(names = "--steps", defaultValue = "5", description = "timed steps (default: ${DEFAULT-VALUE})") int steps;

        @Override
        public Integer call() {
            for (int t : threads) if (t < 1) throw new IllegalArgumentException("--threads: expected counts >= 1, got " + t);
            if (warmup < 0) throw new IllegalArgumentException("--warmup: expected >= 0, got " + warmup);
            if (steps < 1) throw new IllegalArgumentException("--steps: expected >= 1, got " + steps);
            int[] sizes = {layers, dModel, heads, seqLen, batch, vocab, kvPairs};
            String[] names = {"--layers", "--d-model", "--heads", "--seq-len", "--batch", "--vocab", "--kv-pairs"};
            for (int i = 0; i < sizes.length; i++) {
                if (sizes[i] < 1) throw new IllegalArgumentException(names[i] + ": expected >= 1, got " + sizes[i]);
            }
            if (dModel % heads != 0) throw new IllegalArgumentException("--heads: must divide --d-model=" + dModel + ", got " + heads);
            try {
                new org.attn4j.train.task.Mqar.Config(vocab, seqLen, kvPairs, 0.01, false);
            } catch (IllegalArgumentException e) { // the task's own message, with the option's name
                String m = e.getMessage();
                throw new IllegalArgumentException(m.replaceFirst("^seqLen:", "--seq-len:").replaceFirst("^vocab:", "--vocab:")
                        .replaceFirst("^kvPairs:", "--kv-pairs:"), e);
            }
            var shape = new org.attn4j.bench.train.TrainBench.Shape(layers, dModel, heads, seqLen, batch, vocab, kvPairs);
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            var rows = new org.attn4j.bench.train.TrainBench(msg -> err.println("  " + msg)).run(shape, threads, warmup, steps);
            out.print(org.attn4j.bench.train.TrainBench.table(rows));
            out.flush();
            return 0;
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Load test of attn4j serve on 127.0.0.1: starts the server in this process, keeps --concurrency requests",
                    "in flight (a JDK HttpClient client), checks every answer against the offline Embedder, and times the offline",
                    "Embedder (batch 32, as attn4j embed) on the same texts and threads, interleaved round by round."})
    static final class Serve implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--concurrency", paramLabel = "N", defaultValue = "64", description = "requests in flight (default: ${DEFAULT-VALUE})") int concurrency;
        @Option(names = "--requests", paramLabel = "N", defaultValue = "5000", description = "measured requests per thread count (default: ${DEFAULT-VALUE})") int requests;
        @Option(names = "--texts-per-request", paramLabel = "N|A..B", defaultValue = "1", description = "texts per request, fixed or drawn from A..B (default: ${DEFAULT-VALUE})") String textsPerRequest;
        @Option(names = "--threads", paramLabel = "T,T,...", split = ",", description = "encoder thread counts, each run in turn (default: 1 and all cores)") int[] threads;
        @Option(names = "--model", paramLabel = "NAME|PATH", defaultValue = "all-minilm-l6-v2", description = "as for attn4j embed (default: ${DEFAULT-VALUE})") String model;
        @Option(names = "--rounds", paramLabel = "N", defaultValue = "5", description = "interleaved offline/server rounds (default: ${DEFAULT-VALUE})") int rounds;
        @Option(names = "--warmup", paramLabel = "N", defaultValue = "500", description = "untimed requests first (default: ${DEFAULT-VALUE})") int warmup;
        @Option(names = "--max-batch-tokens", paramLabel = "N", defaultValue = "16384", description = "the server's batch limit (default: ${DEFAULT-VALUE})") int maxBatchTokens;

        @Override
        public Integer call() throws IOException, InterruptedException {
            int min, max;
            try {
                String[] p = textsPerRequest.split("\\.\\.", -1);
                min = Integer.parseInt(p[0].trim());
                max = p.length == 2 ? Integer.parseInt(p[1].trim()) : min;
                if (p.length > 2) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--texts-per-request: expected N or A..B, got '" + textsPerRequest + "'");
            }
            int cores = Runtime.getRuntime().availableProcessors();
            int[] t = threads != null ? threads : (cores > 1 ? new int[] {1, cores} : new int[] {1});
            for (int x : t) if (x < 1) throw new IllegalArgumentException("--threads: expected counts >= 1, got " + x);
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            List<org.attn4j.serve.LoadBench.Report> reports = new ArrayList<>();
            for (int x : t) {
                var o = new org.attn4j.serve.LoadBench.Options(model, concurrency, requests, min, max, x, rounds, warmup, maxBatchTokens, 42);
                reports.add(org.attn4j.serve.LoadBench.run(o, msg -> {
                    err.println("  " + msg);
                    err.flush();
                }));
            }
            out.printf("attn4j serve on 127.0.0.1, %d requests of %s text(s), %d in flight; offline = Embedder batch 32, same texts and threads%n",
                    requests, textsPerRequest, concurrency);
            out.print(org.attn4j.serve.LoadBench.table(reports));
            int bad = 0;
            for (var r : reports) {
                bad += r.failures() + r.lost();
                if (r.firstProblem() != null) out.println("first problem (threads " + r.threads() + "): " + r.firstProblem());
            }
            out.flush();
            return bad == 0 ? 0 : 1;
        }
    }

    @Command(name = "kv", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Perplexity of a text under each KV-cache policy and budget: teacher-forced decoding, one token per step,",
                    "so each prediction sees only the keys the policy keeps. On a random-weight model this checks the machinery,",
                    "it says nothing about quality."})
    static final class Kv implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--model", paramLabel = "PATH", required = true, description = "a .gguf file or a Hugging Face directory") Path model;
        @Option(names = "--text", paramLabel = "FILE|DIR", required = true,
                description = "UTF-8 text whose perplexity is measured, or a directory of text files (each its own stream, perplexity pooled over all)") Path text;
        @Option(names = "--policies", paramLabel = "P,P,...", split = ",", defaultValue = "full,window,sinks,h2o",
                description = "KV policies: full, window, sinks, h2o, shared-attention[:G] (default: ${DEFAULT-VALUE}); "
                        + "full and shared-attention keep every position and are measured once") List<String> policies;
        @Option(names = "--budgets", paramLabel = "N,N,...", split = ",", defaultValue = "64,128,256",
                description = "cache budgets in tokens (default: ${DEFAULT-VALUE}); full ignores them and is measured once") int[] budgets;
        @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "512", description = "use each text's first N tokens (default: ${DEFAULT-VALUE})") int maxTokens;
        @Option(names = "--threads", paramLabel = "T", defaultValue = "1", description = "worker threads (default: ${DEFAULT-VALUE})") int threads;

        @Override
        public Integer call() throws IOException {
            if (maxTokens < 2) throw new IllegalArgumentException("--max-tokens: expected >= 2, got " + maxTokens);
            for (int b : budgets) if (b < 1) throw new IllegalArgumentException("--budgets: expected budgets >= 1 token, got " + b);
            for (String p : policies) {
                try {
                    org.attn4j.models.decoder.KvPolicy.of(p.trim(), Math.max(budgets[0], 8));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--policies: " + e.getMessage(), e);
                }
            }
            List<Path> files = textFiles(text);
            org.attn4j.models.decoder.DecoderFiles.Loaded loaded;
            try {
                loaded = org.attn4j.models.decoder.DecoderFiles.load(model);
            } catch (org.attn4j.models.gguf.GgufFormatException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IllegalArgumentException("--model: " + model + " does not exist", e);
            }
            var m = loaded.model().threads(threads);
            int context = m.config().contextLength();
            List<int[]> streams = new ArrayList<>();
            int tokens = 0, predictions = 0, longest = 0;
            for (Path f : files) {
                int[] ids = loaded.tokenizer().encode(java.nio.file.Files.readString(f), false);
                if (loaded.addBos()) {
                    int[] b = new int[ids.length + 1];
                    b[0] = loaded.bos();
                    System.arraycopy(ids, 0, b, 1, ids.length);
                    ids = b;
                }
                if (ids.length > maxTokens) ids = java.util.Arrays.copyOf(ids, maxTokens);
                if (ids.length < 2) throw new IllegalArgumentException("--text: expected text of at least 2 tokens, got " + ids.length + " in " + f);
                streams.add(ids);
                tokens += ids.length;
                predictions += ids.length - 1;
                longest = Math.max(longest, ids.length);
            }
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            if (longest > context) {
                // Learned positions end at the context; rotary positions go on, untrained past it (what the table then shows).
                if (m.config().arch() == org.attn4j.models.decoder.DecoderConfig.Arch.GPT2) {
                    throw new IllegalArgumentException("--max-tokens: " + longest + " tokens exceed the model's context of " + context
                            + " (GPT-2's learned positions end there)");
                }
                err.printf(java.util.Locale.ROOT, "  note: texts of up to %d tokens exceed the model's context of %d; "
                        + "positions past it are rotary positions the model was not trained on%n", longest, context);
            }
            if (files.size() == 1) {
                out.printf("perplexity of %d tokens (%d predictions), teacher-forced one token per step%n", tokens, predictions);
            } else {
                out.printf("perplexity of %d tokens in %d texts (%d predictions, pooled), teacher-forced one token per step%n",
                        tokens, files.size(), predictions);
            }
            out.println("| policy | budget | perplexity | vs full |");
            out.println("|---|---|---|---|");
            int predicted = predictions;
            double full = perplexity(m, streams, new org.attn4j.models.decoder.KvPolicy.Full(), predicted);
            out.printf(java.util.Locale.ROOT, "| full | all | %.6f | 1.0000 |%n", full);
            out.flush();
            forEachPolicy(policies, budgets, err, (name, budget, policy) -> {
                long t0 = System.nanoTime();
                double ppl = perplexity(m, streams, policy, predicted);
                err.printf(java.util.Locale.ROOT, "  %s %s: %.1f s%n", name, budget, (System.nanoTime() - t0) / 1e9);
                err.flush();
                out.printf(java.util.Locale.ROOT, "| %s | %s | %.6f | %.4f |%n", name, budget, ppl, ppl / full);
                out.flush();
            });
            return 0;
        }

        /** {@code exp(Σ nll / Σ predictions)} over the streams, each decoded from an empty cache. */
        private static double perplexity(org.attn4j.models.decoder.DecoderModel m, List<int[]> streams,
                                         org.attn4j.models.decoder.KvPolicy policy, int predictions) {
            double nll = 0;
            for (int[] ids : streams) nll += org.attn4j.models.decoder.KvPerplexity.negativeLogLikelihood(m, ids, policy);
            return Math.exp(nll / predictions);
        }

        /** The file, or a directory's regular files in name order (hidden ones left out). */
        private static List<Path> textFiles(Path text) throws IOException {
            if (java.nio.file.Files.isRegularFile(text)) return List.of(text);
            if (!java.nio.file.Files.isDirectory(text)) throw new IllegalArgumentException("--text: " + text + " is not a file or a directory");
            List<Path> files;
            try (var all = java.nio.file.Files.list(text)) {
                files = all.filter(java.nio.file.Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
                        .sorted().toList();
            }
            if (files.isEmpty()) throw new IllegalArgumentException("--text: the directory " + text + " holds no files");
            return files;
        }
    }

    @Command(name = "kv-recall", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Recall accuracy of a model trained on a synthetic task (attn4j train --export) under each KV-cache policy",
                    "and budget: every held-out sequence is decoded one token per step through the cache, and the arg-max at each",
                    "marked position is checked. The held-out set is the one attn4j train scores with the same task options and seed."})
    static final class KvRecall implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--model", paramLabel = "DIR", required = true, description = "a Hugging Face directory written by attn4j train --export") Path model;
        @Option(names = "--task", paramLabel = "NAME", defaultValue = "mqar", description = "mqar, induction or selective-copy (default: ${DEFAULT-VALUE})") String task;
        @Option(names = "--seq-len", paramLabel = "T", defaultValue = "64", description = "sequence length (default: ${DEFAULT-VALUE})") int seqLen;
        @Option(names = "--kv-pairs", paramLabel = "K", defaultValue = "4", description = "MQAR key-value pairs (default: ${DEFAULT-VALUE})") int kvPairs;
        @Option(names = "--vocab", paramLabel = "V", defaultValue = "128", description = "the task's vocabulary (default: ${DEFAULT-VALUE})") int vocab;
        @Option(names = "--copy-tokens", paramLabel = "K", defaultValue = "16", description = "selective-copy tokens (default: ${DEFAULT-VALUE})") int copyTokens;
        @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "the training run's seed; the held-out set derives from it (default: ${DEFAULT-VALUE})") long seed;
        @Option(names = "--eval-batches", paramLabel = "N", defaultValue = "8", description = "held-out batches (default: ${DEFAULT-VALUE})") int evalBatches;
        @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "sequences per held-out batch (default: ${DEFAULT-VALUE})") int batch;
        @Option(names = "--policies", paramLabel = "P,P,...", split = ",", defaultValue = "full,window,sinks,h2o",
                description = "KV policies: full, window, sinks, h2o, shared-attention[:G] (default: ${DEFAULT-VALUE})") List<String> policies;
        @Option(names = "--budgets", paramLabel = "N,N,...", split = ",", defaultValue = "8,16,32,48",
                description = "cache budgets in tokens (default: ${DEFAULT-VALUE})") int[] budgets;
        @Option(names = "--threads", paramLabel = "T", defaultValue = "1", description = "worker threads (default: ${DEFAULT-VALUE})") int threads;

        @Override
        public Integer call() throws IOException {
            if (!List.of("mqar", "induction", "selective-copy").contains(task)) {
                throw new IllegalArgumentException("--task: expected one of mqar, induction, selective-copy, got '" + task + "'");
            }
            for (int b : budgets) if (b < 1) throw new IllegalArgumentException("--budgets: expected budgets >= 1 token, got " + b);
            if (evalBatches < 1) throw new IllegalArgumentException("--eval-batches: expected > 0, got " + evalBatches);
            if (batch < 1) throw new IllegalArgumentException("--batch: expected > 0, got " + batch);
            for (String p : policies) {
                try {
                    org.attn4j.models.decoder.KvPolicy.of(p.trim(), Math.max(budgets[0], 8));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--policies: " + e.getMessage(), e);
                }
            }
            org.attn4j.train.task.Tasks.Prepared prepared;
            try {
                prepared = org.attn4j.train.task.Tasks.prepare(task, new org.attn4j.train.task.Tasks.Options(seqLen, vocab, kvPairs, copyTokens, null, "byte"),
                        seed, evalBatches, batch);
            } catch (IllegalArgumentException e) {
                throw TrainingOptions.named(e, null);
            }
            if (!java.nio.file.Files.isDirectory(model)) throw new IllegalArgumentException("--model: " + model + " is not a model directory");
            org.attn4j.models.decoder.DecoderModel m;
            try {
                m = org.attn4j.models.decoder.HfDecoder.load(model).threads(threads);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IllegalArgumentException("--model: " + model + " has no " + java.nio.file.Path.of(e.getFile()).getFileName(), e);
            }
            if (m.config().vocab() != prepared.vocab()) {
                throw new IllegalArgumentException("--vocab: the model has " + m.config().vocab() + " ids, the task " + prepared.vocab());
            }
            var heldOut = prepared.heldOut();
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            out.printf(java.util.Locale.ROOT, "%s recall, %d held-out sequences of %d tokens, decoded one token per step%n",
                    task, evalBatches * batch, seqLen);
            out.println("| policy | budget | accuracy | answers |");
            out.println("|---|---|---|---|");
            var full = org.attn4j.train.kv.KvRecall.evaluate(m, heldOut, new org.attn4j.models.decoder.KvPolicy.Full());
            out.printf(java.util.Locale.ROOT, "| full | all | %.2f %% | %d / %d |%n", 100 * full.accuracy(), full.correct(), full.marked());
            out.flush();
            forEachPolicy(policies, budgets, err, (name, budget, policy) -> {
                var r = org.attn4j.train.kv.KvRecall.evaluate(m, heldOut, policy);
                out.printf(java.util.Locale.ROOT, "| %s | %s | %.2f %% | %d / %d |%n", name, budget,
                        100 * r.accuracy(), r.correct(), r.marked());
                out.flush();
            });
            return 0;
        }
    }

    /** One measurement of a cache policy at a budget ("all" for a policy that keeps every position). */
    @FunctionalInterface
    interface PolicyRow {
        void measure(String name, String budget, org.attn4j.models.decoder.KvPolicy policy);
    }

    /**
     * Runs {@code row} for every policy other than {@code full} at every budget; a policy that cannot
     * take a budget is skipped with a line on {@code err}, and shared attention (which keeps every
     * position, so the budget changes nothing) is measured once.
     */
    static void forEachPolicy(List<String> policies, int[] budgets, java.io.PrintWriter err, PolicyRow row) {
        for (String p : policies) {
            String name = p.trim();
            if (name.equals("full")) continue;
            for (int b : budgets) {
                org.attn4j.models.decoder.KvPolicy policy;
                try {
                    policy = org.attn4j.models.decoder.KvPolicy.of(name, b);
                } catch (IllegalArgumentException e) {
                    err.println("  skipped " + name + " at budget " + b + ": " + e.getMessage());
                    continue;
                }
                boolean once = policy instanceof org.attn4j.models.decoder.KvPolicy.SharedAttention;
                row.measure(name, once ? "all" : String.valueOf(b), policy);
                if (once) break;
            }
        }
    }
}
