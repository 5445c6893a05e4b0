package org.attn4j.train.task;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.train.text.Document;

/**
 * Next-token prediction on real text. The documents are tokenized and joined into one stream, each
 * followed by {@code <|endoftext|>}. A training example is a window of T + 1 consecutive tokens
 * starting at a uniformly random offset: the first T are the input, the last T the targets, and
 * every position is marked (the loss is the mean next-token cross-entropy, its exponential the
 * perplexity). Windows may span a document boundary, as in GPT-2's training; the separator tells
 * the model where one document ends.
 *
 * <p>The held-out set ({@link #heldOut}) cuts the held-out documents' stream into consecutive,
 * non-overlapping windows from its start, so it is the same for every seed.
 */
public final class LanguageModeling implements Task {

    private final int[] stream;
    private final int seqLen;
    private final Random rnd;

    /** Training windows of length {@code seqLen} over {@code stream}, their offsets drawn from {@code seed}. */
    public LanguageModeling(int[] stream, int seqLen, long seed) {
        if (seqLen <= 0) throw new IllegalArgumentException("seqLen: expected > 0, got " + seqLen);
        if (stream.length < seqLen + 1) throw new IllegalArgumentException("text: the training documents have " + stream.length + " tokens, fewer than seqLen + 1 = " + (seqLen + 1));
        this.stream = stream;
        this.seqLen = seqLen;
        this.rnd = new Random(seed);
    }

    /** The documents' ids joined, each document followed by {@code <|endoftext|>}. */
    public static int[] tokenize(List<Document> docs, ByteLevelBpe tokenizer, int endOfText) {
        List<int[]> parts = new ArrayList<>(docs.size());
        long total = 0;
        for (Document d : docs) {
            int[] ids = tokenizer.encode(d.text());
            parts.add(ids);
            total += ids.length + 1;
        }
        int[] out = new int[Math.toIntExact(total)];
        int at = 0;
        for (int[] ids : parts) {
            System.arraycopy(ids, 0, out, at, ids.length);
            at += ids.length;
            out[at++] = endOfText;
        }
        return out;
    }

    @Override
    public Batch next(int batchSize) {
        if (batchSize <= 0) throw new IllegalArgumentException("batchSize: expected > 0, got " + batchSize);
        int t = seqLen;
        int[] tokens = new int[batchSize * t], targets = new int[batchSize * t];
        boolean[] mask = new boolean[batchSize * t];
        Arrays.fill(mask, true);
        for (int b = 0; b < batchSize; b++) {
            int start = rnd.nextInt(stream.length - t);
            System.arraycopy(stream, start, tokens, b * t, t);
            System.arraycopy(stream, start + 1, targets, b * t, t);
        }
        return new Batch(batchSize, t, tokens, targets, mask);
    }

    /**
     * Up to {@code batches} batches of {@code batchSize} consecutive windows from the start of
     * {@code stream} (the last batch smaller when the stream runs out). Throws IllegalArgumentException
     * when the stream is shorter than one window.
     */
    public static List<Batch> heldOut(int[] stream, int seqLen, int batches, int batchSize) {
        if (batches <= 0) throw new IllegalArgumentException("batches: expected > 0, got " + batches);
        if (batchSize <= 0) throw new IllegalArgumentException("batchSize: expected > 0, got " + batchSize);
        int windows = (stream.length - 1) / seqLen;
        if (windows == 0) throw new IllegalArgumentException("text: the held-out documents have " + stream.length + " tokens, fewer than seqLen + 1 = " + (seqLen + 1));
        windows = (int) Math.min(windows, (long) batches * batchSize);
        List<Batch> out = new ArrayList<>();
        for (int w0 = 0; w0 < windows; w0 += batchSize) {
            int b = Math.min(batchSize, windows - w0);
            int[] tokens = new int[b * seqLen], targets = new int[b * seqLen];
            boolean[] mask = new boolean[b * seqLen];
            Arrays.fill(mask, true);
            for (int i = 0; i < b; i++) {
                int start = (w0 + i) * seqLen;
                System.arraycopy(stream, start, tokens, i * seqLen, seqLen);
                System.arraycopy(stream, start + 1, targets, i * seqLen, seqLen);
            }
            out.add(new Batch(b, seqLen, tokens, targets, mask));
        }
        return out;
    }
}
