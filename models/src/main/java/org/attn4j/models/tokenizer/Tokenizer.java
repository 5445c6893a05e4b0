package org.attn4j.models.tokenizer;

/**
 * Text to token ids and back, for decoder models (byte-level BPE, SentencePiece-style BPE).
 * Implementations are immutable and thread-safe.
 */
public interface Tokenizer {

    /**
     * The ids of {@code text}, with no BOS/EOS added. With {@code parseSpecial}, the text of a
     * special or added token (such as {@code <|endoftext|>}) becomes that token's id; without it,
     * such text is tokenised like any other text.
     */
    int[] encode(String text, boolean parseSpecial);

    /** The text of {@code ids} (special tokens as their text); throws IllegalArgumentException naming an unknown id. */
    String decode(int[] ids);

    /** One more than the largest id. */
    int vocabSize();
}
