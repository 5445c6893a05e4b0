package org.attn4j.train.distill;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertGrad;
import org.attn4j.models.tokenizer.Encoding;
import org.attn4j.models.tokenizer.WordPieceTokenizer;
import org.attn4j.train.Parameters;
import org.attn4j.train.checkpoint.Checkpoint;
import org.attn4j.train.optim.AdamW;
import org.attn4j.train.optim.GradientClipping;
import org.attn4j.train.optim.LearningRate;

/**
 * Task-agnostic distillation of a BERT encoder into a smaller one by MiniLMv2's relation loss
 * ({@link RelationLoss}): the teacher's layer {@code teacherLayer} and the student's last layer, Q–Q,
 * K–K and V–V relations, {@code relationHeads} relation heads.
 *
 * <p>One step: draw {@code batch} training sentences (a seeded draw per step, so a resumed run draws
 * what the uninterrupted run would have), tokenise them (at most {@code maxTokens} tokens each),
 * run the teacher up to its chosen layer and the student fully, take the loss and its gradient on the
 * student's last-layer projections, propagate it down the student ({@link BertGrad.Pass#backwardFromQkv}),
 * clip the global norm, and take an AdamW step at the warm-up/cosine rate of {@link LearningRate}.
 *
 * <p>Trained: every student tensor the loss reaches, except the word-embedding table when it was
 * copied from the teacher (30,522 rows, most of which a run of a few thousand sentences never
 * touches; AdamW's decay and momentum would move rows no sentence supports). The last layer's
 * attention output and feed-forward block are not reached by the loss and stay as initialised
 * (MiniLMv2 leaves them to fine-tuning); so do its query/key/value projections when
 * {@link Settings#trainLastQkv} is false. Weight decay applies to linear-layer matrices only.
 *
 * <p>Checkpoints go through {@link Checkpoint#save(Path, int, Parameters, AdamW, Map, Map, int)}; tensor
 * names carry the prefix {@value #PREFIX}.
 */
public final class Distiller {
    /** Prefix of the student's tensor names in {@link #parameters()} and checkpoints. */
    public static final String PREFIX = "student.";

    /**
     * The run's settings.
     *
     * @param relationHeads   R, relation heads (must divide both widths)
     * @param teacherLayer    the teacher layer whose relations are the targets (0-based)
     * @param steps           optimiser steps
     * @param batch           sentences per step
     * @param lr              peak learning rate; warm-up over {@code warmup} steps, cosine decay to lr/10
     * @param weightDecay     AdamW's decoupled decay on linear-layer matrices
     * @param gradClip        global gradient-norm clip (0: none)
     * @param maxTokens       tokens per sentence at most, [CLS] and [SEP] included
     * @param seed            seed of the sentence draws (and of a fresh student's weights)
     * @param threads         worker threads (0 = all processors)
     * @param checkpointEvery steps between checkpoints (and after the last)
     * @param trainLastQkv    whether the student's last query/key/value projections are updated (MiniLMv2 does); when
     *                        false they stay as initialised and the loss can only be lowered by what lies below them
     */
    public record Settings(int relationHeads, int teacherLayer, int steps, int batch, float lr, int warmup, float weightDecay, float gradClip,
                           int maxTokens, long seed, int threads, int checkpointEvery, boolean trainLastQkv) {
        public Settings {
            if (relationHeads < 1) throw new IllegalArgumentException("relationHeads: expected >= 1, got " + relationHeads);
            if (steps < 0) throw new IllegalArgumentException("steps: expected >= 0, got " + steps);
            if (batch < 1) throw new IllegalArgumentException("batch: expected >= 1, got " + batch);
            if (!(lr > 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("lr: expected a finite value > 0, got " + lr);
            if (warmup < 0) throw new IllegalArgumentException("warmup: expected >= 0, got " + warmup);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weightDecay: expected >= 0, got " + weightDecay);
            if (!(gradClip >= 0)) throw new IllegalArgumentException("gradClip: expected >= 0, got " + gradClip);
            if (maxTokens < 2) throw new IllegalArgumentException("maxTokens: expected >= 2, got " + maxTokens);
            if (threads < 0) throw new IllegalArgumentException("threads: expected >= 1 (or 0 for all), got " + threads);
            if (checkpointEvery < 1) throw new IllegalArgumentException("checkpointEvery: expected >= 1, got " + checkpointEvery);
        }
    }

    /** One finished step: its loss (before the update), the gradient norm before clipping, the rate used. */
    public record Step(int step, int steps, double loss, double gradNorm, float lr) {}

    private final BertGrad teacher;
    private final int teacherHidden;
    private final WordPieceTokenizer tokenizer;
    private final Student student;
    private final Settings settings;
    private final Parameters params;
    private final Map<String, float[]> frozen = new LinkedHashMap<>();
    private final AdamW optimiser;

    /**
     * @param teacherConfig     the teacher's config
     * @param teacherParameters the teacher's parameters (canonical names; not modified)
     * @param student           the initial student (its arrays become the frozen tensors' values)
     */
    public Distiller(BertConfig teacherConfig, Map<String, float[]> teacherParameters, WordPieceTokenizer tokenizer, Student student, Settings settings) {
        if (settings.teacherLayer() < 0 || settings.teacherLayer() >= teacherConfig.layers()) {
            throw new IllegalArgumentException("teacherLayer: expected 0.." + (teacherConfig.layers() - 1) + ", got " + settings.teacherLayer());
        }
        int sh = student.config().hidden(), th = teacherConfig.hidden(), r = settings.relationHeads();
        if (th % r != 0 || sh % r != 0) {
            throw new IllegalArgumentException("relationHeads: expected a divisor of the teacher's width " + th + " and the student's " + sh + ", got " + r);
        }
        // the teacher runs only as far as its chosen layer
        BertConfig upTo = new BertConfig(th, settings.teacherLayer() + 1, teacherConfig.heads(), teacherConfig.intermediate(), teacherConfig.maxPositions(),
                teacherConfig.vocabSize(), teacherConfig.typeVocabSize(), teacherConfig.layerNormEps(), teacherConfig.pooling());
        Map<String, float[]> tp = new LinkedHashMap<>();
        for (String name : BertGrad.expectedSizes(upTo).keySet()) tp.put(name, teacherParameters.get(name));
        this.teacher = BertGrad.of(upTo, tp);
        this.teacherHidden = th;
        this.tokenizer = tokenizer;
        this.student = student;
        this.settings = settings;
        String last = "encoder.layer." + (student.config().layers() - 1) + ".";
        Parameters.Builder b = Parameters.builder();
        for (Map.Entry<String, float[]> e : student.parameters().entrySet()) {
            String name = e.getKey();
            boolean unreached = name.startsWith(last) && (!name.startsWith(last + "attention.self.") || !settings.trainLastQkv());
            boolean copiedWords = name.equals("embeddings.word_embeddings.weight") && student.teacherLayers() != null;
            if (unreached || copiedWords) {
                frozen.put(name, e.getValue());
                continue;
            }
            boolean matrix = name.startsWith("encoder.layer.") && name.endsWith(".weight") && !name.contains("LayerNorm");
            b.add(PREFIX + name, matrix, e.getValue().length);
        }
        this.params = b.build();
        for (Parameters.Param p : params.params()) {
            float[] v = student.parameters().get(p.name().substring(PREFIX.length()));
            System.arraycopy(v, 0, params.values(), p.offset(), v.length);
        }
        this.optimiser = new AdamW(params, settings.weightDecay());
    }

    /** The trained tensors (names with {@value #PREFIX}), live. */
    public Parameters parameters() { return params; }

    /** The student with the current values of its tensors (fresh arrays for the trained ones). */
    public Student student() {
        Map<String, float[]> p = new LinkedHashMap<>();
        for (String name : student.parameters().keySet()) {
            float[] v = frozen.get(name);
            if (v == null) {
                Parameters.Param t = params.get(PREFIX + name);
                v = java.util.Arrays.copyOfRange(params.values(), t.offset(), t.offset() + t.size());
            }
            p.put(name, v);
        }
        return new Student(student.config(), p, student.teacherLayers());
    }

    /** The sentences of step {@code step}: a draw that depends on the seed and the step only. */
    List<String> batch(List<String> train, int step) {
        Random r = new Random(settings.seed() * 1_000_003L + step);
        List<String> out = new ArrayList<>(settings.batch());
        for (int i = 0; i < settings.batch(); i++) out.add(train.get(r.nextInt(train.size())));
        return out;
    }

    /** The relation loss of the current student on {@code sentences} (no update). */
    public double loss(List<String> sentences) {
        return lossAndGradient(sentences, false);
    }

    /** Loss on {@code sentences}; with {@code backward}, the gradients of the trained tensors are added into {@link #parameters()}' grads. */
    private double lossAndGradient(List<String> sentences, boolean backward) {
        int n = sentences.size();
        int[][] ids = new int[n][], types = new int[n][];
        for (int i = 0; i < n; i++) {
            Encoding e = tokenizer.encode(sentences.get(i), settings.maxTokens());
            ids[i] = e.ids();
            types[i] = e.typeIds();
        }
        int threads = settings.threads();
        float[] target = teacher.forward(teacher.input(ids, types), null, threads).qkv(settings.teacherLayer());
        Student now = student();
        BertGrad model = BertGrad.of(now.config(), now.parameters());
        BertGrad.Pass pass = model.forward(model.input(ids, types), null, threads);
        int last = now.config().layers() - 1;
        float[] qkv = pass.qkv(last);
        float[] dQkv = backward ? new float[qkv.length] : null;
        double loss = RelationLoss.compute(target, teacherHidden, qkv, now.config().hidden(), pass.offsets(), settings.relationHeads(), dQkv, threads);
        if (backward) {
            Map<String, float[]> g = pass.backwardFromQkv(last, dQkv, true).parameters();
            float[] grads = params.grads();
            for (Parameters.Param t : params.params()) {
                float[] gt = g.get(t.name().substring(PREFIX.length()));
                for (int i = 0; i < gt.length; i++) grads[t.offset() + i] += gt[i];
            }
        }
        return loss;
    }

    /**
     * Trains for the remaining steps. With {@code checkpoints} not null a checkpoint is written every
     * {@code checkpointEvery} steps and after the last; with {@code resume} the run first continues
     * from the newest checkpoint there (same settings expected; checked against its config.json).
     * Returns the steps done in total.
     */
    public int run(List<String> train, Path checkpoints, boolean resume, Consumer<Step> progress) throws IOException {
        if (train.isEmpty()) throw new IllegalArgumentException("train: expected at least one sentence");
        int start = 0;
        if (resume && checkpoints != null && Checkpoint.latest(checkpoints) != null) {
            Checkpoint.Restored c = Checkpoint.restore(Checkpoint.latest(checkpoints), params, optimiser);
            JsonNode saved = c.config().path("distillation");
            Map<String, Object> now = describe();
            for (Map.Entry<String, Object> e : now.entrySet()) {
                String was = saved.path(e.getKey()).asText(null);
                if (was == null || !was.equals(String.valueOf(e.getValue()))) {
                    throw new IllegalArgumentException("resume: the checkpoint in " + c.dir() + " was made with " + e.getKey() + " = " + was + ", this run has " + e.getValue());
                }
            }
            start = c.step();
        }
        LearningRate schedule = new LearningRate(settings.lr(), settings.lr() / 10, settings.warmup(), Math.max(1, settings.steps()));
        for (int step = start; step < settings.steps(); step++) {
            params.zeroGrad();
            double loss = lossAndGradient(batch(train, step), true);
            double norm = GradientClipping.clip(params, settings.gradClip() > 0 ? settings.gradClip() : Double.POSITIVE_INFINITY);
            float lr = schedule.at(step);
            optimiser.step(lr);
            if (progress != null) progress.accept(new Step(step, settings.steps(), loss, norm, lr));
            boolean save = (step + 1) % settings.checkpointEvery() == 0 || step + 1 == settings.steps();
            if (checkpoints != null && save) {
                Map<String, Object> config = new LinkedHashMap<>(StudentExport.configJson(student.config()));
                config.put("distillation", describe());
                Checkpoint.save(checkpoints, step + 1, params, optimiser, config, Map.of("seed", settings.seed()), 2);
            }
        }
        return Math.max(start, settings.steps());
    }

    /** The settings and the student's origin, as stored in checkpoints and the output's config.json. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", "MiniLMv2 self-attention relation distillation (Q-Q, K-K, V-V)");
        m.put("relation_heads", settings.relationHeads());
        m.put("teacher_layer", settings.teacherLayer());
        m.put("student_layers", student.config().layers());
        m.put("student_hidden", student.config().hidden());
        m.put("initialised_from_teacher_layers", student.teacherLayers() == null ? "none (random)" : java.util.Arrays.toString(student.teacherLayers()));
        m.put("steps", settings.steps());
        m.put("batch", settings.batch());
        m.put("lr", settings.lr());
        m.put("warmup", settings.warmup());
        m.put("weight_decay", settings.weightDecay());
        m.put("grad_clip", settings.gradClip());
        m.put("max_tokens", settings.maxTokens());
        m.put("seed", settings.seed());
        m.put("train_last_qkv", settings.trainLastQkv());
        return m;
    }
}
