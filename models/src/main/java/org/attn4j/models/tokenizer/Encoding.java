package org.attn4j.models.tokenizer;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tokenized input, unpadded: {@code ids[i]}, {@code typeIds[i]}, {@code attentionMask[i]} and {@code tokens[i]}
 * describe the i-th token, special tokens ({@code [CLS]}, {@code [SEP]}) included. All four arrays have the same length.
 *
 * @param ids                vocabulary ids
 * @param typeIds            token type (segment) ids: 0 for the first sequence, 1 for the second of a pair
 * @param attentionMask      1 for every token (an encoding is never padded; see {@link Batch} for padding)
 * @param tokens             the vocabulary strings of {@code ids}
 * @param untruncatedLength  the length, special tokens included, the encoding would have had without truncation
 */
public record Encoding(int[] ids, int[] typeIds, int[] attentionMask, String[] tokens, int untruncatedLength) {

    public Encoding {
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(typeIds, "typeIds");
        Objects.requireNonNull(attentionMask, "attentionMask");
        Objects.requireNonNull(tokens, "tokens");
        int n = ids.length;
        if (typeIds.length != n || attentionMask.length != n || tokens.length != n) {
            throw new IllegalArgumentException("Encoding: ids, typeIds, attentionMask and tokens must have the same length, got "
                    + n + ", " + typeIds.length + ", " + attentionMask.length + ", " + tokens.length);
        }
        if (untruncatedLength < n) {
            throw new IllegalArgumentException("Encoding: untruncatedLength=" + untruncatedLength + " < length=" + n);
        }
    }

    /** Whether tokens were dropped to respect the maximum length. */
    public boolean truncated() { return untruncatedLength > ids.length; }

    /** Number of tokens, special tokens included. */
    public int length() { return ids.length; }

    @Override
    public boolean equals(Object o) {
        return o instanceof Encoding e && untruncatedLength == e.untruncatedLength && Arrays.equals(ids, e.ids)
                && Arrays.equals(typeIds, e.typeIds) && Arrays.equals(attentionMask, e.attentionMask) && Arrays.equals(tokens, e.tokens);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(ids) + Arrays.hashCode(typeIds)) + untruncatedLength;
    }

    @Override
    public String toString() {
        return "Encoding[tokens=" + Arrays.toString(tokens) + ", ids=" + Arrays.toString(ids) + ", typeIds=" + Arrays.toString(typeIds)
                + (truncated() ? ", truncated from " + untruncatedLength : "") + "]";
    }
}
