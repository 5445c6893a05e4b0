package org.attn4j.models.weights;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.attn4j.core.tensor.Tensor;

/**
 * Named float32 tensors of a model, under Hugging Face BERT names without a model prefix
 * ({@code embeddings.word_embeddings.weight}, {@code encoder.layer.3.attention.self.query.weight}, ...).
 * Every linear layer's weight is stored {@code [in, out]} (the layout ONNX MatMul uses), so that
 * {@code y = x · W + b}; readers of formats that store {@code [out, in]} transpose on load.
 */
public final class ModelWeights {
    private final Map<String, Tensor> tensors;
    private final String source;

    public ModelWeights(Map<String, Tensor> tensors, String source) {
        this.tensors = Collections.unmodifiableMap(new TreeMap<>(tensors));
        this.source = source;
    }

    /** The tensor, or an IllegalArgumentException naming the missing tensor and the source. */
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(source + ": missing tensor '" + name + "' (is this a BERT-family model? it has "
                    + tensors.size() + " tensors" + (tensors.isEmpty() ? "" : ", e.g. '" + tensors.keySet().iterator().next() + "'") + ")");
        }
        return t;
    }

    /** The tensor, checked to have exactly {@code shape}. */
    public Tensor get(String name, int... shape) {
        Tensor t = get(name);
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(source + ": tensor '" + name + "' has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected " + java.util.Arrays.toString(shape));
        }
        return t;
    }

    public boolean has(String name) { return tensors.containsKey(name); }
    public Set<String> names() { return tensors.keySet(); }
    /** Where the weights came from (a path or a resource name), for messages. */
    public String source() { return source; }
}
