package org.attn4j.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.weights.ModelWeights;
import org.attn4j.models.weights.SafetensorsWeights;
import org.attn4j.models.weights.SafetensorsWriter;
import org.attn4j.train.Parameters;
import org.attn4j.train.loop.TrainConfig;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.optim.AdamW;

/**
 * Checkpoints of a training run, written atomically.
 *
 * <p>Layout under a run's checkpoint root:
 * <pre>
 *   root/
 *     latest                      the name of the newest complete checkpoint (one line)
 *     step-000400/
 *       model.safetensors         every parameter tensor, F32, under the model's names (h.0.attn.c_attn.weight, ...)
 *       config.json               the TransformerConfig, plus GPT-2/Llama-style keys (vocab_size, n_embd, ...)
 *       optimizer.safetensors     AdamW's moments: NAME.exp_avg and NAME.exp_avg_sq for every tensor
 *       trainer_state.json        steps done, AdamW's step count and hyper-parameters, the training
 *                                 stream's position (batches drawn), the TrainConfig, seed, threads
 * </pre>
 *
 * <p>Atomicity: a checkpoint is written into a fresh temporary directory {@code root/.tmp-step-N-*},
 * every file forced to disk, then the directory is renamed to {@code step-N} and {@code latest} is
 * replaced by an atomic rename of a temporary file. A crash at any point before that last rename
 * leaves {@code latest} naming the previous checkpoint, which is untouched; a leftover temporary
 * directory is ignored by readers and removed by the next save. Older checkpoints beyond
 * {@code keep} are deleted only after {@code latest} moved on.
 */
public final class Checkpoint {
    public static final String MODEL_FILE = "model.safetensors";
    public static final String CONFIG_FILE = "config.json";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String STATE_FILE = "trainer_state.json";
    public static final String LATEST = "latest";
    /** Format version written into trainer_state.json. */
    public static final int FORMAT = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * The training loop's position.
     *
     * @param step          optimiser steps completed (the next step to run is this index)
     * @param batchesDrawn  batches taken from the training stream so far (the stream is replayed to here on resume)
     * @param seed          the run's seed (informational; the stream is rebuilt by the caller)
     * @param threads       worker threads of the run (bit-identical resumption needs the same count)
     * @param train         the run's settings
     */
    public record State(int step, long batchesDrawn, long seed, int threads, TrainConfig train) {}

    /** What {@link #load} read: the model's config, its weights by name, the optimiser state and the loop's state. */
    public record Loaded(Path dir, TransformerConfig config, ModelWeights weights, ModelWeights optimizer, int adamSteps, State state) {}

    /** Called before each file of a checkpoint is written; tests use it to fail mid-save. */
    interface Hook {
        void beforeWrite(String file) throws IOException;
    }

    private Checkpoint() {}

    /**
     * Writes a checkpoint of {@code model}, {@code optimiser} and {@code state} under {@code root}
     * (created if needed) as {@code step-N}, makes it the latest, and deletes all but the newest
     * {@code keep} checkpoints. Returns the checkpoint's directory.
     */
    public static Path save(Path root, TransformerLM model, AdamW optimiser, State state, int keep) throws IOException {
        return save(root, model, optimiser, state, keep, f -> {});
    }

    static Path save(Path root, TransformerLM model, AdamW optimiser, State state, int keep, Hook hook) throws IOException {
        return write(root, state.step(), model.parameters(), optimiser, configJson(model.config()), stateJson(state, optimiser), keep, hook);
    }

    /**
     * Writes a checkpoint of any model whose tensors live in one {@link Parameters} (a model other than
     * {@link TransformerLM}, e.g. a distillation student), with the same files, atomicity and pruning
     * as {@link #save(Path, TransformerLM, AdamW, State, int)}: {@code config} becomes config.json,
     * {@code state} trainer_state.json (with {@code format}, {@code step} and AdamW's {@code adam}
     * added). Tensor names must not be ones that {@link SafetensorsWeights#readTensors} transposes
     * (Hugging Face BERT linear weights); a prefix avoids that.
     */
    public static Path save(Path root, int step, Parameters params, AdamW optimiser, Map<String, Object> config, Map<String, Object> state, int keep)
            throws IOException {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("format", FORMAT);
        s.put("step", step);
        state.forEach(s::putIfAbsent);
        s.put("adam", adamJson(optimiser));
        return write(root, step, params, optimiser, config, s, keep, f -> {});
    }

    /** What {@link #restore(Path, Parameters, AdamW)} read besides the tensors. */
    public record Restored(Path dir, int step, JsonNode config, JsonNode state) {}

    /**
     * Copies the checkpoint in {@code dir} (written by {@link #save(Path, int, Parameters, AdamW, Map, Map, int)})
     * into {@code params} and {@code optimiser}; returns its step, config.json and trainer_state.json.
     * Throws IllegalArgumentException naming the tensor when the layouts differ.
     */
    public static Restored restore(Path dir, Parameters params, AdamW optimiser) throws IOException {
        if (dir == null || !Files.isDirectory(dir)) throw new NoSuchFileException(String.valueOf(dir), null, "checkpoint directory not found");
        JsonNode state = readJson(dir.resolve(STATE_FILE));
        int format = state.path("format").asInt(-1);
        if (format != FORMAT) throw new IllegalArgumentException(dir.resolve(STATE_FILE) + ": format " + format + ", this version reads " + FORMAT);
        JsonNode config = readJson(dir.resolve(CONFIG_FILE));
        ModelWeights weights = SafetensorsWeights.readTensors(dir.resolve(MODEL_FILE));
        ModelWeights moments = SafetensorsWeights.readTensors(dir.resolve(OPTIMIZER_FILE));
        if (weights.names().size() != params.params().size()) {
            throw new IllegalArgumentException("weights: the checkpoint has " + weights.names().size() + " tensors, the model " + params.params().size());
        }
        for (Parameters.Param t : params.params()) {
            copy(weights, t.name(), t, params.values());
            copy(moments, t.name() + ".exp_avg", t, optimiser.firstMoments());
            copy(moments, t.name() + ".exp_avg_sq", t, optimiser.secondMoments());
        }
        optimiser.restoreSteps(state.path("adam").path("step").asInt());
        return new Restored(dir, state.path("step").asInt(), config, state);
    }

    private static Path write(Path root, int step, Parameters p, AdamW optimiser, Map<String, Object> config, Map<String, Object> state, int keep, Hook hook)
            throws IOException {
        if (keep < 1) throw new IllegalArgumentException("keep: expected at least 1 checkpoint, got " + keep);
        Files.createDirectories(root);
        removeTemporaries(root);
        String name = String.format("step-%06d", step);
        Path tmp = Files.createTempDirectory(root, ".tmp-" + name + "-");
        hook.beforeWrite(MODEL_FILE);
        Map<String, SafetensorsWriter.Entry> weights = new LinkedHashMap<>();
        for (Parameters.Param t : p.params()) put(weights, t.name(), new SafetensorsWriter.Entry(p.values(), t.offset(), t.shape()));
        SafetensorsWriter.write(tmp.resolve(MODEL_FILE), weights, Map.of("format", "pt", "attn4j", "model"));
        hook.beforeWrite(CONFIG_FILE);
        writeJson(tmp.resolve(CONFIG_FILE), config);
        hook.beforeWrite(OPTIMIZER_FILE);
        Map<String, SafetensorsWriter.Entry> moments = new LinkedHashMap<>();
        for (Parameters.Param t : p.params()) {
            put(moments, t.name() + ".exp_avg", new SafetensorsWriter.Entry(optimiser.firstMoments(), t.offset(), t.shape()));
            put(moments, t.name() + ".exp_avg_sq", new SafetensorsWriter.Entry(optimiser.secondMoments(), t.offset(), t.shape()));
        }
        SafetensorsWriter.write(tmp.resolve(OPTIMIZER_FILE), moments, Map.of("format", "pt", "attn4j", "adamw"));
        hook.beforeWrite(STATE_FILE);
        writeJson(tmp.resolve(STATE_FILE), state);
        hook.beforeWrite("rename");
        Path target = root.resolve(name);
        if (Files.exists(target)) deleteTree(target); // a checkpoint of the same step from an earlier, abandoned run
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        hook.beforeWrite(LATEST);
        Path pointer = Files.createTempFile(root, ".tmp-latest-", "");
        Files.writeString(pointer, name + "\n", StandardCharsets.UTF_8);
        moveAtomically(pointer, root.resolve(LATEST));
        prune(root, keep);
        return target;
    }

    /** Adds a tensor, refusing a second one of the same name (which the file could not hold). */
    private static void put(Map<String, SafetensorsWriter.Entry> tensors, String name, SafetensorsWriter.Entry e) {
        if (tensors.putIfAbsent(name, e) != null) throw new IllegalArgumentException("tensors: duplicate name '" + name + "'");
    }

    /** The newest complete checkpoint under {@code root} ({@code latest}), or null when there is none. */
    public static Path latest(Path root) throws IOException {
        Path pointer = root.resolve(LATEST);
        if (!Files.isRegularFile(pointer)) return null;
        Path dir = root.resolve(Files.readString(pointer, StandardCharsets.UTF_8).trim());
        if (!Files.isDirectory(dir)) throw new IOException(pointer + " names " + dir.getFileName() + ", which is not there");
        return dir;
    }

    /** Reads the checkpoint directory {@code dir} (as {@link #latest} or {@link #save} return). */
    public static Loaded load(Path dir) throws IOException {
        if (dir == null || !Files.isDirectory(dir)) throw new NoSuchFileException(String.valueOf(dir), null, "checkpoint directory not found");
        TransformerConfig config = readConfig(dir.resolve(CONFIG_FILE));
        ModelWeights weights = SafetensorsWeights.readTensors(dir.resolve(MODEL_FILE));
        ModelWeights optimizer = SafetensorsWeights.readTensors(dir.resolve(OPTIMIZER_FILE));
        JsonNode s = readJson(dir.resolve(STATE_FILE));
        int format = s.path("format").asInt(-1);
        if (format != FORMAT) throw new IllegalArgumentException(dir.resolve(STATE_FILE) + ": format " + format + ", this version reads " + FORMAT);
        JsonNode t = s.get("train");
        TrainConfig train = new TrainConfig(t.get("steps").asInt(), t.get("batch").asInt(), t.get("accumulate").asInt(),
                (float) t.get("learningRate").asDouble(), (float) t.get("minLearningRate").asDouble(), t.get("warmupSteps").asInt(),
                (float) t.get("weightDecay").asDouble(), (float) t.get("gradClip").asDouble(), t.get("evalEvery").asInt(),
                t.get("targetAccuracy").asDouble());
        State state = new State(s.get("step").asInt(), s.get("batchesDrawn").asLong(), s.get("seed").asLong(), s.get("threads").asInt(), train);
        return new Loaded(dir, config, weights, optimizer, s.get("adam").get("step").asInt(), state);
    }

    /**
     * Copies a loaded checkpoint's weights into {@code model} and its moments and step count into
     * {@code optimiser}. Throws IllegalArgumentException naming the tensor when the model's layout
     * does not match the checkpoint (another config).
     */
    public static void restore(Loaded c, TransformerLM model, AdamW optimiser) {
        if (!c.config().equals(model.config())) {
            throw new IllegalArgumentException("config: the checkpoint " + c.dir() + " has " + c.config() + ", the model has " + model.config());
        }
        Parameters p = model.parameters();
        for (Parameters.Param t : p.params()) {
            copy(c.weights(), t.name(), t, p.values());
            if (optimiser != null) {
                copy(c.optimizer(), t.name() + ".exp_avg", t, optimiser.firstMoments());
                copy(c.optimizer(), t.name() + ".exp_avg_sq", t, optimiser.secondMoments());
            }
        }
        if (c.weights().names().size() != p.params().size()) {
            throw new IllegalArgumentException("weights: the checkpoint has " + c.weights().names().size() + " tensors, the model " + p.params().size());
        }
        if (optimiser != null) optimiser.restoreSteps(c.adamSteps());
    }

    /** A model built from a checkpoint's config with its weights (e.g. for evaluation or export). */
    public static TransformerLM loadModel(Path dir, int maxBatch, int threads) throws IOException {
        Loaded c = load(dir);
        TransformerLM model = new TransformerLM(c.config(), maxBatch, threads, 0);
        restore(c, model, null);
        return model;
    }

    private static void copy(ModelWeights w, String name, Parameters.Param t, float[] into) {
        if (!w.has(name)) throw new IllegalArgumentException("weights: the checkpoint has no tensor '" + name + "'");
        Tensor x = w.get(name);
        if (!Arrays.equals(x.shape(), t.shape())) {
            throw new IllegalArgumentException("weights: '" + name + "' has shape " + Arrays.toString(x.shape()) + " in the checkpoint, the model wants " + Arrays.toString(t.shape()));
        }
        float[] data = x.contiguous().toArray();
        System.arraycopy(data, 0, into, t.offset(), t.size());
    }

    // ---- config.json ----

    /**
     * The config as JSON: attn4j's own keys (read back by {@link #readConfig}) and, for other tools,
     * the matching keys of Hugging Face's GPT-2 ({@code n_embd}, {@code n_layer}, {@code n_head},
     * {@code n_positions}) and Llama ({@code hidden_size}, {@code num_hidden_layers},
     * {@code num_attention_heads}, {@code intermediate_size}, {@code rms_norm_eps}, ...) configs.
     */
    static Map<String, Object> configJson(TransformerConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("attn4j_format", FORMAT);
        m.put("vocab", c.vocab());
        m.put("seqLen", c.seqLen());
        m.put("layers", c.layers());
        m.put("dModel", c.dModel());
        m.put("heads", c.heads());
        m.put("mlpRatio", c.mlpRatio());
        m.put("learnedPositions", c.learnedPositions());
        m.put("alibi", c.alibi());
        m.put("window", c.window());
        m.put("lnEps", c.lnEps());
        m.put("initStd", c.initStd());
        m.put("rope", c.rope());
        m.put("norm", c.norm().name());
        m.put("mlp", c.mlp().name());
        m.put("tiedOutput", c.tiedOutput());
        m.put("bias", c.bias());
        m.put("attention", c.attention());
        m.put("attentionSettings", c.attentionSettings());
        // For readers that know GPT-2 or Llama configs.
        boolean llama = c.rope() && c.norm() == TransformerConfig.Norm.RMS && c.mlp() == TransformerConfig.Mlp.SWIGLU;
        m.put("model_type", llama ? "llama" : "gpt2");
        m.put("vocab_size", c.vocab());
        m.put("n_positions", c.seqLen());
        m.put("max_position_embeddings", c.seqLen());
        m.put("n_embd", c.dModel());
        m.put("hidden_size", c.dModel());
        m.put("n_layer", c.layers());
        m.put("num_hidden_layers", c.layers());
        m.put("n_head", c.heads());
        m.put("num_attention_heads", c.heads());
        m.put("num_key_value_heads", c.heads());
        m.put("n_inner", c.hidden());
        m.put("intermediate_size", c.hidden());
        m.put(c.norm() == TransformerConfig.Norm.RMS ? "rms_norm_eps" : "layer_norm_epsilon", c.lnEps());
        m.put("tie_word_embeddings", c.tiedOutput());
        if (c.rope()) m.put("rope_theta", 10000.0);
        return m;
    }

    /** Reads attn4j's keys of a {@code config.json} written by {@link #save}. */
    public static TransformerConfig readConfig(Path file) throws IOException {
        JsonNode n = readJson(file);
        try {
            List<String> settings = new ArrayList<>();
            n.path("attentionSettings").forEach(x -> settings.add(x.asText()));
            return new TransformerConfig(req(n, "vocab").asInt(), req(n, "seqLen").asInt(), req(n, "layers").asInt(),
                    req(n, "dModel").asInt(), req(n, "heads").asInt(), req(n, "mlpRatio").asInt(),
                    req(n, "learnedPositions").asBoolean(), req(n, "alibi").asBoolean(), req(n, "window").asInt(),
                    (float) req(n, "lnEps").asDouble(), (float) req(n, "initStd").asDouble(), req(n, "rope").asBoolean(),
                    TransformerConfig.Norm.valueOf(req(n, "norm").asText()), TransformerConfig.Mlp.valueOf(req(n, "mlp").asText()),
                    req(n, "tiedOutput").asBoolean(), req(n, "bias").asBoolean(), req(n, "attention").asText(), settings);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode req(JsonNode n, String key) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) throw new IllegalArgumentException("missing '" + key + "'");
        return v;
    }

    private static Map<String, Object> adamJson(AdamW opt) {
        Map<String, Object> adam = new LinkedHashMap<>();
        adam.put("step", opt.steps());
        adam.put("beta1", opt.beta1());
        adam.put("beta2", opt.beta2());
        adam.put("eps", opt.eps());
        adam.put("weightDecay", opt.weightDecay());
        return adam;
    }

    private static Map<String, Object> stateJson(State s, AdamW opt) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("step", s.step());
        m.put("batchesDrawn", s.batchesDrawn());
        m.put("seed", s.seed());
        m.put("threads", s.threads());
        m.put("adam", adamJson(opt));
        TrainConfig t = s.train();
        Map<String, Object> train = new LinkedHashMap<>();
        train.put("steps", t.steps());
        train.put("batch", t.batch());
        train.put("accumulate", t.accumulate());
        train.put("learningRate", t.learningRate());
        train.put("minLearningRate", t.minLearningRate());
        train.put("warmupSteps", t.warmupSteps());
        train.put("weightDecay", t.weightDecay());
        train.put("gradClip", t.gradClip());
        train.put("evalEvery", t.evalEvery());
        train.put("targetAccuracy", t.targetAccuracy());
        m.put("train", train);
        return m;
    }

    // ---- files ----

    private static void writeJson(Path file, Object value) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(value);
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
    }

    private static JsonNode readJson(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "checkpoint file not found");
        try {
            return JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(from);
            throw new IOException("checkpoint: the file system of " + to.getParent() + " cannot rename atomically, so checkpoints there could be torn", e);
        }
    }

    /** Deletes complete checkpoints other than the newest {@code keep} (by step) and never the latest. */
    private static void prune(Path root, int keep) throws IOException {
        Path latest = latest(root);
        List<Path> dirs = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "step-*")) {
            for (Path d : ds) if (Files.isDirectory(d)) dirs.add(d);
        }
        dirs.sort(Comparator.comparing((Path d) -> d.getFileName().toString()).reversed());
        for (int i = keep; i < dirs.size(); i++) {
            if (!dirs.get(i).equals(latest)) deleteTree(dirs.get(i));
        }
    }

    private static void removeTemporaries(Path root) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, ".tmp-*")) {
            for (Path d : ds) deleteTree(d);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> {
                try {
                    Files.delete(x);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
