package org.attn4j.train.distill;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertGrad;

/**
 * A student BERT's shape and initial parameters (canonical names, linear weights {@code [in, out]}).
 *
 * <p>Same width as the teacher: the teacher's embeddings and {@code L} of its layers, spaced evenly
 * with the first and the last kept ({@link #spacedLayers}: 3 of 6 gives 0, 3, 5). Keeping the last
 * layer matters because relation distillation trains only the student's last query/key/value
 * projections and what lies below them; the last layer's attention output and feed-forward block
 * receive no gradient, so they had better already map a teacher-like state to the teacher's output
 * (docs/distillation.md compares the choices measured).
 *
 * <p>Another width: a fresh model (heads of the teacher's head width, FFN 4× wide), weights
 * N(0, 0.02), LayerNorm γ = 1, biases and β = 0, as BERT initialises.
 *
 * @param config        the student's config (positions, vocabulary and pooling as the teacher's)
 * @param parameters    canonical name → values
 * @param teacherLayers the teacher layer each student layer was copied from, or null for a fresh model
 */
public record Student(BertConfig config, Map<String, float[]> parameters, int[] teacherLayers) {

    /** The student of {@code layers} layers and width {@code hidden} of a teacher. */
    public static Student of(BertConfig teacher, Map<String, float[]> teacherParameters, int layers, int hidden, long seed) {
        if (layers < 1 || layers > teacher.layers()) {
            throw new IllegalArgumentException("studentLayers: expected 1.." + teacher.layers() + " (the teacher's layers), got " + layers);
        }
        if (hidden == teacher.hidden()) {
            BertConfig cfg = new BertConfig(hidden, layers, teacher.heads(), teacher.intermediate(), teacher.maxPositions(), teacher.vocabSize(),
                    teacher.typeVocabSize(), teacher.layerNormEps(), teacher.pooling());
            int[] pick = spacedLayers(teacher.layers(), layers);
            Map<String, float[]> p = new LinkedHashMap<>();
            for (String name : BertGrad.expectedSizes(cfg).keySet()) {
                String from = name;
                if (name.startsWith("encoder.layer.")) {
                    int l = Integer.parseInt(name.substring("encoder.layer.".length(), name.indexOf('.', "encoder.layer.".length())));
                    from = "encoder.layer." + pick[l] + name.substring(name.indexOf('.', "encoder.layer.".length()));
                }
                float[] v = teacherParameters.get(from);
                if (v == null) throw new IllegalArgumentException("teacher: no tensor '" + from + "'");
                p.put(name, v.clone());
            }
            return new Student(cfg, p, pick);
        }
        int headDim = teacher.headDim();
        if (hidden < headDim || hidden % headDim != 0) {
            throw new IllegalArgumentException("studentHidden: expected a positive multiple of the teacher's head width " + headDim + ", got " + hidden);
        }
        BertConfig cfg = new BertConfig(hidden, layers, hidden / headDim, 4 * hidden, teacher.maxPositions(), teacher.vocabSize(),
                teacher.typeVocabSize(), teacher.layerNormEps(), teacher.pooling());
        Random rnd = new Random(seed);
        Map<String, float[]> p = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : BertGrad.expectedSizes(cfg).entrySet()) {
            String name = e.getKey();
            float[] v = new float[e.getValue()];
            if (name.endsWith("LayerNorm.weight")) Arrays.fill(v, 1f);
            else if (name.endsWith(".weight")) for (int i = 0; i < v.length; i++) v[i] = (float) (0.02 * rnd.nextGaussian());
            p.put(name, v);
        }
        return new Student(cfg, p, null);
    }

    /** {@code s} of {@code t} layers, evenly spaced, first and last kept: round(i·(t − 1)/(s − 1)); one layer is the last. */
    public static int[] spacedLayers(int t, int s) {
        if (s < 1 || s > t) throw new IllegalArgumentException("studentLayers: expected 1.." + t + ", got " + s);
        int[] pick = new int[s];
        for (int i = 0; i < s; i++) pick[i] = s == 1 ? t - 1 : (int) Math.round((double) i * (t - 1) / (s - 1));
        return pick;
    }
}
