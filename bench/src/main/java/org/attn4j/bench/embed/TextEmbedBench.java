package org.attn4j.bench.embed;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import org.attn4j.bench.peer.TextEmbedPeer;
import org.attn4j.bench.sdpa.SdpaBench;
import org.attn4j.models.embed.Embedder;

/**
 * The engine behind {@code attn4j bench embed-texts}: texts to normalised embeddings end to end
 * (tokenizer, encoder, pooling) with all-MiniLM-L6-v2, attn4j's {@link Embedder} beside every
 * {@link TextEmbedPeer} on the class path, on the same texts and thread count. Each contender is
 * warmed, then they take turns in blocks ({@link SdpaBench#medians}); every peer's vectors are
 * compared with attn4j's.
 */
public final class TextEmbedBench {
    /**
     * One row. {@code minCosine}: the lowest cosine between this row's and attn4j's vector of the same
     * text (NaN on attn4j's row); {@code attn4jSpeedup}: this row's time ÷ attn4j's (peer rows only).
     */
    public record Row(String impl, int threads, int texts, double medianMs, double textsPerSecond, double minCosine,
                      Double attn4jSpeedup, String note) {}

    /** The bench's settings; {@code threads} as given to every contender. */
    public record Options(int[] threads, int batchSize, boolean peers, double warmupSeconds, double minSeconds, int minReps) {
        public Options {
            if (threads == null || threads.length == 0) throw new IllegalArgumentException("threads: expected at least one count");
            for (int t : threads) if (t < 1) throw new IllegalArgumentException("threads: expected counts >= 1, got " + t);
            if (batchSize < 1) throw new IllegalArgumentException("batch: expected >= 1, got " + batchSize);
            if (warmupSeconds < 0) throw new IllegalArgumentException("warmup: expected >= 0 seconds, got " + warmupSeconds);
            if (minSeconds <= 0) throw new IllegalArgumentException("min-seconds: expected > 0, got " + minSeconds);
            if (minReps < 1) throw new IllegalArgumentException("minReps: expected >= 1, got " + minReps);
        }
    }

    private final Consumer<String> progress;

    public TextEmbedBench(Consumer<String> progress) {
        this.progress = progress;
    }

    public List<Row> run(List<String> texts, Options o) throws IOException {
        if (texts == null || texts.isEmpty()) throw new IllegalArgumentException("texts: expected at least one text");
        Embedder model = Embedder.load(Embedder.MINILM);
        List<TextEmbedPeer> found = new ArrayList<>();
        if (o.peers()) ServiceLoader.load(TextEmbedPeer.class).forEach(found::add);
        List<Row> rows = new ArrayList<>();
        for (int t : o.threads()) {
            progress.accept("embed " + texts.size() + " texts on " + t + " thread(s): loading and warming " + (1 + found.size()) + " contender(s)");
            Embedder mine = model.withThreads(t).withBatchSize(o.batchSize());
            List<TextEmbedPeer.Loaded> loaded = new ArrayList<>();
            try {
                for (TextEmbedPeer p : found) loaded.add(p.load(t, o.batchSize()));
                List<Runnable> runs = new ArrayList<>();
                runs.add(() -> mine.embed(texts));
                for (TextEmbedPeer.Loaded l : loaded) runs.add(() -> l.embed(texts));
                // Warm every contender (JIT, ONNX Runtime's arenas) before any timing, turn by turn.
                for (Runnable r : runs) {
                    long end = System.nanoTime() + (long) (o.warmupSeconds() * 1e9);
                    do r.run(); while (System.nanoTime() < end);
                }
                progress.accept("timing, contenders interleaved");
                double[] ms = SdpaBench.medians(runs, o.minSeconds(), o.minReps());
                float[][] ref = mine.embed(texts);
                rows.add(new Row("attn4j " + Embedder.MINILM, t, texts.size(), ms[0], texts.size() * 1000.0 / ms[0], Double.NaN, null,
                        "Embedder, batches of " + o.batchSize() + ", " + t + " thread(s)"));
                for (int i = 0; i < loaded.size(); i++) {
                    float[][] got = loaded.get(i).embed(texts);
                    rows.add(new Row(found.get(i).name() + " " + found.get(i).version(), t, texts.size(), ms[i + 1],
                            texts.size() * 1000.0 / ms[i + 1], minCosine(ref, got), ms[i + 1] / ms[0], loaded.get(i).threadNote()));
                }
            } finally {
                for (TextEmbedPeer.Loaded l : loaded) l.close();
            }
        }
        return rows;
    }

    /** The lowest cosine similarity between rows of {@code a} and {@code b} (which must have the same shape). */
    static double minCosine(float[][] a, float[][] b) {
        if (a.length != b.length) throw new IllegalStateException("peer returned " + b.length + " vectors for " + a.length + " texts");
        double min = 1;
        for (int i = 0; i < a.length; i++) {
            if (a[i].length != b[i].length) throw new IllegalStateException("peer vector " + i + " has " + b[i].length + " dimensions, expected " + a[i].length);
            double dot = 0, na = 0, nb = 0;
            for (int c = 0; c < a[i].length; c++) {
                dot += (double) a[i][c] * b[i][c];
                na += (double) a[i][c] * a[i][c];
                nb += (double) b[i][c] * b[i][c];
            }
            min = Math.min(min, dot / Math.sqrt(na * nb));
        }
        return min;
    }

    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-44s %3s %6s %10s %9s %11s  %s%n",
                "impl", "thr", "texts", "median ms", "texts/s", "min cosine", "note"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-44s %3d %6d %10.2f %9.1f %11s  %s%s%n", r.impl(), r.threads(), r.texts(), r.medianMs(),
                    r.textsPerSecond(), Double.isNaN(r.minCosine()) ? "-" : String.format(Locale.ROOT, "%.8f", r.minCosine()),
                    r.attn4jSpeedup() == null ? "" : String.format(Locale.ROOT, "attn4j speed = %.2fx this; ", r.attn4jSpeedup()), r.note()));
        }
        sb.append("attn4j speed = this row's median time ÷ attn4j's (above 1: attn4j is faster); min cosine: against attn4j's vectors of the same texts.\n");
        return sb.toString();
    }
}
