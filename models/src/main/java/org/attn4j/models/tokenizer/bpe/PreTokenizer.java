package org.attn4j.models.tokenizer.bpe;

import java.util.List;

/**
 * The step before BPE: splits text into pieces that merges never cross (GPT-2 keeps words, numbers,
 * punctuation runs and whitespace apart, so {@code "dog."} never becomes one token). Concatenating
 * the pieces gives the text back.
 */
public interface PreTokenizer {
    /** The pieces of {@code text}, in order; their concatenation equals {@code text}. */
    List<String> split(String text);
}
