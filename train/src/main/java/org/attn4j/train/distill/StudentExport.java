package org.attn4j.train.distill;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.io.AtomicFile;
import org.attn4j.models.weights.BertWeights;
import org.attn4j.models.weights.SafetensorsWeights;
import org.attn4j.models.weights.SafetensorsWriter;

/**
 * Writes a student as a Hugging Face BERT directory: {@code model.safetensors} (BertModel names
 * without a prefix, linear weights {@code [out, in]} as {@code nn.Linear} stores them, F32),
 * {@code config.json} (BertConfig keys) and the teacher's {@code tokenizer.json}, the three files
 * that {@code Embedder.load(dir)} reads.
 *
 * <p>All three are first written in full into a temporary directory inside {@code dir}, then moved
 * into place one rename each; a failure before the renames leaves {@code dir} as it was.
 */
public final class StudentExport {
    private StudentExport() {}

    public static final String TOKENIZER_FILE = "tokenizer.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Hugging Face {@code BertConfig} keys of {@code c}. */
    public static Map<String, Object> configJson(BertConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of("BertModel"));
        m.put("model_type", "bert");
        m.put("hidden_size", c.hidden());
        m.put("num_hidden_layers", c.layers());
        m.put("num_attention_heads", c.heads());
        m.put("intermediate_size", c.intermediate());
        m.put("hidden_act", "gelu");
        m.put("max_position_embeddings", c.maxPositions());
        m.put("vocab_size", c.vocabSize());
        m.put("type_vocab_size", c.typeVocabSize());
        m.put("layer_norm_eps", c.layerNormEps());
        m.put("position_embedding_type", "absolute");
        m.put("torch_dtype", "float32");
        return m;
    }

    /**
     * Writes {@code student} into {@code dir} (created if needed) with {@code tokenizerJson} and, in
     * config.json under {@code "attn4j_distillation"}, {@code provenance}.
     */
    public static void save(Path dir, Student student, byte[] tokenizerJson, Map<String, Object> provenance) throws IOException {
        BertConfig cfg = student.config();
        Map<String, SafetensorsWriter.Entry> tensors = new LinkedHashMap<>();
        for (BertWeights.Named n : BertWeights.expected(cfg)) {
            float[] v = student.parameters().get(n.name());
            if (v == null) throw new IllegalArgumentException("student: no tensor '" + n.name() + "'");
            int[] shape = n.shape();
            if (SafetensorsWeights.storedTransposed(n.name())) {
                // canonical [in, out] → nn.Linear's [out, in]
                int in = shape[0], out = shape[1];
                float[] t = new float[v.length];
                for (int i = 0; i < in; i++) for (int o = 0; o < out; o++) t[o * in + i] = v[i * out + o];
                v = t;
                shape = new int[] {out, in};
            }
            tensors.put(n.name(), new SafetensorsWriter.Entry(v, shape));
        }
        Map<String, Object> config = new LinkedHashMap<>(configJson(cfg));
        if (provenance != null && !provenance.isEmpty()) config.put("attn4j_distillation", provenance);
        Files.createDirectories(dir);
        Path tmp = Files.createTempDirectory(dir, ".tmp-student-");
        try {
            SafetensorsWriter.write(tmp.resolve(SafetensorsWeights.MODEL_FILE), tensors, Map.of("format", "pt"));
            AtomicFile.write(tmp.resolve(SafetensorsWeights.CONFIG_FILE), JSON.writeValueAsBytes(config));
            AtomicFile.write(tmp.resolve(TOKENIZER_FILE), tokenizerJson);
            for (String f : List.of(SafetensorsWeights.MODEL_FILE, SafetensorsWeights.CONFIG_FILE, TOKENIZER_FILE)) {
                try {
                    Files.move(tmp.resolve(f), dir.resolve(f), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("out: the file system of " + dir + " cannot rename atomically", e);
                }
            }
        } finally {
            try (Stream<Path> s = Files.list(tmp)) {
                for (Path p : s.toList()) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(tmp);
        }
    }
}
