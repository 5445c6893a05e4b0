package org.attn4j.bench.embed;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import org.attn4j.bench.peer.EmbedPeer;
import org.attn4j.bench.sdpa.SdpaBench;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.embed.Embedder;
import org.attn4j.models.weights.OnnxWeights;

/**
 * The engine behind {@code attn4j bench embed}: all-MiniLM-L6-v2's encoder (tokenised inputs of a
 * fixed length, so both runtimes do the same work) timed in sentences per second, attn4j beside
 * any {@link EmbedPeer} on the class path, same thread count, same ONNX file.
 */
public final class EmbedBench {
    /** One row: {@code speedup} = peer time ÷ attn4j time (peer rows only). */
    public record Row(int batch, int tokens, String impl, int threads, double medianMs, double sentencesPerSecond,
                      double maxAbsDiff, Double attn4jSpeedup) {}

    /** (batch, tokens) pairs of the default run. */
    public static final int[][] DEFAULT_SHAPES = {{32, 128}, {1, 16}, {8, 512}};

    private final Consumer<String> progress;

    public EmbedBench(Consumer<String> progress) {
        this.progress = progress;
    }

    public List<Row> run(int[][] shapes, int[] threads, boolean peers, double minSeconds, int minReps) throws IOException {
        Embedder model = Embedder.load(Embedder.MINILM);
        BertEncoder enc = model.encoder();
        byte[] onnx = null;
        List<EmbedPeer> found = new ArrayList<>();
        if (peers) ServiceLoader.load(EmbedPeer.class).forEach(found::add);
        if (!found.isEmpty()) {
            try (InputStream in = EmbedBench.class.getClassLoader().getResourceAsStream(OnnxWeights.EMBEDDED_MINILM)) {
                onnx = in.readAllBytes();
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int[] shape : shapes) {
            int batch = shape[0], tokens = shape[1];
            int[][] ids = inputs(batch, tokens);
            for (int t : threads) {
                progress.accept("embed " + batch + " x " + tokens + " tokens on " + t + " thread(s)");
                List<Runnable> runs = new ArrayList<>();
                runs.add(() -> enc.forward(ids, null, t));
                List<EmbedPeer.Prepared> prepared = new ArrayList<>();
                for (EmbedPeer p : found) {
                    EmbedPeer.Prepared prep = p.prepare(onnx, ids, t);
                    prepared.add(prep);
                    runs.add(prep::run);
                }
                double[] ms = SdpaBench.medians(runs, minSeconds, minReps);
                rows.add(new Row(batch, tokens, "attn4j", t, ms[0], batch * 1000.0 / ms[0], Double.NaN, null));
                BertEncoder.Output mine = enc.forward(ids, null, t);
                for (int i = 0; i < found.size(); i++) {
                    try (EmbedPeer.Prepared prep = prepared.get(i)) {
                        float[][][] ref = prep.lastHiddenState();
                        double diff = 0;
                        for (int b = 0; b < batch; b++)
                            for (int x = 0; x < tokens; x++) {
                                float[] got = mine.token(b, x);
                                for (int c = 0; c < got.length; c++) diff = Math.max(diff, Math.abs(got[c] - ref[b][x][c]));
                            }
                        rows.add(new Row(batch, tokens, found.get(i).name() + " " + found.get(i).version(), t, ms[i + 1],
                                batch * 1000.0 / ms[i + 1], diff, ms[i + 1] / ms[0]));
                    }
                }
            }
        }
        return rows;
    }

    /** [CLS] random word pieces [SEP], exactly {@code tokens} long. */
    static int[][] inputs(int batch, int tokens) {
        Random r = new Random(batch * 1000L + tokens);
        int[][] ids = new int[batch][tokens];
        for (int[] row : ids) {
            row[0] = 101;
            for (int x = 1; x < tokens - 1; x++) row[x] = 1996 + r.nextInt(28000);
            if (tokens > 1) row[tokens - 1] = 102;
        }
        return ids;
    }

    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-14s %-22s %3s %10s %12s %12s  %s%n",
                "batch x tokens", "impl", "thr", "median ms", "sentences/s", "max|diff|", "note"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-14s %-22s %3d %10.2f %12.1f %12s  %s%n", r.batch() + " x " + r.tokens(), r.impl(),
                    r.threads(), r.medianMs(), r.sentencesPerSecond(), Double.isNaN(r.maxAbsDiff()) ? "-" : String.format(Locale.ROOT, "%.1e", r.maxAbsDiff()),
                    r.attn4jSpeedup() == null ? "" : String.format(Locale.ROOT, "attn4j speed = %.2fx this", r.attn4jSpeedup())));
        }
        sb.append(SdpaBench.WARMUP_RULE).append('\n');
        return sb.toString();
    }
}
