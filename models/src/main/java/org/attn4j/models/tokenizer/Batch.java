package org.attn4j.models.tokenizer;

import java.util.List;

/**
 * Encodings padded to a rectangle: every row has {@code width} entries, the longest encoding's length. Row {@code r}
 * holds encoding {@code r} in its first {@code lengths[r]} entries; the rest are {@code padId} in {@code ids},
 * 0 in {@code typeIds} and 0 in {@code attentionMask}.
 *
 * @param ids           padded token ids, [rows][width]
 * @param typeIds       padded token type ids, [rows][width]
 * @param attentionMask 1 for real tokens, 0 for padding, [rows][width]
 * @param lengths       the real (unpadded) length of each row
 */
public record Batch(int[][] ids, int[][] typeIds, int[][] attentionMask, int[] lengths) {

    /** Pads {@code encodings} (at least one) to the longest with {@code padId}. */
    public static Batch of(List<Encoding> encodings, int padId) {
        if (encodings.isEmpty()) {
            throw new IllegalArgumentException("Batch.of: no encodings");
        }
        int rows = encodings.size();
        int width = 0;
        for (Encoding e : encodings) {
            width = Math.max(width, e.length());
        }
        int[][] ids = new int[rows][width];
        int[][] types = new int[rows][width];
        int[][] mask = new int[rows][width];
        int[] lengths = new int[rows];
        for (int r = 0; r < rows; r++) {
            Encoding e = encodings.get(r);
            int n = e.length();
            lengths[r] = n;
            System.arraycopy(e.ids(), 0, ids[r], 0, n);
            System.arraycopy(e.typeIds(), 0, types[r], 0, n);
            System.arraycopy(e.attentionMask(), 0, mask[r], 0, n);
            java.util.Arrays.fill(ids[r], n, width, padId);
        }
        return new Batch(ids, types, mask, lengths);
    }

    public int rows() { return lengths.length; }

    public int width() { return rows() == 0 ? 0 : ids[0].length; }
}
