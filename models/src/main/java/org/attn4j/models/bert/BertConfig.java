package org.attn4j.models.bert;

/**
 * Hyper-parameters of a BERT encoder.
 *
 * @param hidden        hidden size H
 * @param layers        number of transformer layers
 * @param heads         attention heads (H % heads == 0)
 * @param intermediate  FFN inner size
 * @param maxPositions  position-embedding rows (the model's token limit, e.g. 512)
 * @param vocabSize     word-embedding rows
 * @param typeVocabSize token-type-embedding rows
 * @param layerNormEps  LayerNorm epsilon (1e-12 for BERT)
 * @param pooling       how a sentence embedding is read off the last hidden state
 */
public record BertConfig(int hidden, int layers, int heads, int intermediate, int maxPositions, int vocabSize,
                         int typeVocabSize, double layerNormEps, Pooling pooling) {

    /** Sentence pooling. MEAN averages the real (non-padding) tokens; CLS takes the first token. Both then L2-normalise. */
    public enum Pooling { MEAN, CLS }

    public BertConfig {
        if (hidden < 1 || layers < 1 || heads < 1 || hidden % heads != 0) {
            throw new IllegalArgumentException("BertConfig: hidden=" + hidden + " must be a positive multiple of heads=" + heads
                    + " and layers=" + layers + " >= 1");
        }
        if (intermediate < 1 || maxPositions < 1 || vocabSize < 1 || typeVocabSize < 1 || !(layerNormEps > 0)) {
            throw new IllegalArgumentException("BertConfig: intermediate, maxPositions, vocabSize, typeVocabSize and layerNormEps must be positive");
        }
    }

    public int headDim() { return hidden / heads; }
}
