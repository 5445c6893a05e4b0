package org.attn4j.models.weights;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.core.tensor.Tensor;

/**
 * The canonical tensor set of a BERT encoder (see {@link ModelWeights}) and the checks and
 * shape-based config derivation shared by the weight readers.
 */
public final class BertWeights {
    private BertWeights() {}

    private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");

    /** Suffixes of the linear layers inside {@code encoder.layer.L.}; their weights are {@code [in, out]}. */
    public static final List<String> LINEARS = List.of(
            "attention.self.query", "attention.self.key", "attention.self.value",
            "attention.output.dense", "intermediate.dense", "output.dense");

    /** Strips a leading {@code bert.} model prefix. */
    public static String canonical(String name) {
        return name.startsWith("bert.") ? name.substring(5) : name;
    }

    /** Every tensor a BERT encoder with {@code c} needs, with its shape, in a stable order. */
    public static List<Named> expected(BertConfig c) {
        int h = c.hidden(), i = c.intermediate();
        List<Named> out = new ArrayList<>();
        out.add(new Named("embeddings.word_embeddings.weight", c.vocabSize(), h));
        out.add(new Named("embeddings.position_embeddings.weight", c.maxPositions(), h));
        out.add(new Named("embeddings.token_type_embeddings.weight", c.typeVocabSize(), h));
        out.add(new Named("embeddings.LayerNorm.weight", h));
        out.add(new Named("embeddings.LayerNorm.bias", h));
        for (int l = 0; l < c.layers(); l++) {
            String p = "encoder.layer." + l + ".";
            for (String qkv : List.of("query", "key", "value")) {
                out.add(new Named(p + "attention.self." + qkv + ".weight", h, h));
                out.add(new Named(p + "attention.self." + qkv + ".bias", h));
            }
            out.add(new Named(p + "attention.output.dense.weight", h, h));
            out.add(new Named(p + "attention.output.dense.bias", h));
            out.add(new Named(p + "attention.output.LayerNorm.weight", h));
            out.add(new Named(p + "attention.output.LayerNorm.bias", h));
            out.add(new Named(p + "intermediate.dense.weight", h, i));
            out.add(new Named(p + "intermediate.dense.bias", i));
            out.add(new Named(p + "output.dense.weight", i, h));
            out.add(new Named(p + "output.dense.bias", h));
            out.add(new Named(p + "output.LayerNorm.weight", h));
            out.add(new Named(p + "output.LayerNorm.bias", h));
        }
        return out;
    }

    /** A tensor name and its expected shape. */
    public record Named(String name, int... shape) {}

    /** Checks that {@code w} holds every tensor {@code c} needs, with the right shape; throws naming the first that is missing or wrong. */
    public static void validate(ModelWeights w, BertConfig c) {
        for (Named n : expected(c)) w.get(n.name(), n.shape());
    }

    /** Number of layers: one more than the largest {@code encoder.layer.L.} index (0 if none). */
    public static int countLayers(Iterable<String> names) {
        TreeSet<Integer> seen = new TreeSet<>();
        for (String n : names) {
            Matcher m = LAYER.matcher(n);
            if (m.find()) seen.add(Integer.parseInt(m.group(1)));
        }
        return seen.isEmpty() ? 0 : seen.last() + 1;
    }

    /**
     * A config read off the tensor shapes (hidden, layers, intermediate, vocab, positions, token types)
     * plus the given heads, epsilon and pooling, then {@linkplain #validate validated} against {@code w}.
     */
    public static BertConfig deriveConfig(ModelWeights w, int heads, double layerNormEps, BertConfig.Pooling pooling) {
        Tensor word = w.get("embeddings.word_embeddings.weight");
        requireRank(w, "embeddings.word_embeddings.weight", word, 2);
        int vocab = word.dim(0), hidden = word.dim(1);
        Tensor pos = w.get("embeddings.position_embeddings.weight");
        requireRank(w, "embeddings.position_embeddings.weight", pos, 2);
        Tensor type = w.get("embeddings.token_type_embeddings.weight");
        requireRank(w, "embeddings.token_type_embeddings.weight", type, 2);
        int layers = countLayers(w.names());
        if (layers == 0) {
            // names the first per-layer tensor so the message says what was looked for
            w.get("encoder.layer.0.attention.self.query.weight");
        }
        Tensor inter = w.get("encoder.layer.0.intermediate.dense.weight");
        requireRank(w, "encoder.layer.0.intermediate.dense.weight", inter, 2);
        if (hidden % heads != 0) {
            throw new IllegalArgumentException(w.source() + ": hidden size " + hidden + " is not a multiple of " + heads + " heads");
        }
        BertConfig c = new BertConfig(hidden, layers, heads, inter.dim(1), pos.dim(0), vocab, type.dim(0), layerNormEps, pooling);
        validate(w, c);
        return c;
    }

    private static void requireRank(ModelWeights w, String name, Tensor t, int rank) {
        if (t.rank() != rank) {
            throw new IllegalArgumentException(w.source() + ": tensor '" + name + "' has rank " + t.rank() + ", expected " + rank);
        }
    }
}
