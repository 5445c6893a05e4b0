package org.attn4j.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.attn4j.core.io.Npy;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.embed.Embedder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j embed}: sentence embeddings, one per input line. */
@Command(name = "embed", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sentence embeddings, one per input line, in input order (L2-normalised).",
                "Without --input it embeds a few bundled example sentences and prints their cosine similarities."})
final class EmbedCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME|PATH", defaultValue = Embedder.MINILM,
            description = "all-minilm-l6-v2 (default), bge-small-en-v1.5, an .onnx file or a safetensors directory") String model;
    @Option(names = "--input", paramLabel = "FILE|-", description = "UTF-8 text, one input per line ('-' = standard input)") String input;
    @Option(names = "--format", paramLabel = "jsonl|npy", description = "jsonl rows {\"index\": i, \"embedding\": [...]} or npy float32 [lines, dim] (default: from --out's extension, else jsonl)") String format;
    @Option(names = "--out", paramLabel = "FILE", description = "output file (default: standard output, jsonl only)") Path out;
    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "lines per forward pass (default: ${DEFAULT-VALUE})") int batch;
    @Option(names = "--threads", paramLabel = "T", defaultValue = "0", description = "worker threads (default: all cores)") int threads;
    @Option(names = "--max-tokens", paramLabel = "N", description = "truncate inputs to N tokens, [CLS]/[SEP] included (default: the model's limit, 512; sentence-transformers uses 256 for MiniLM)") Integer maxTokens;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        if (batch < 1) throw new IllegalArgumentException("--batch: expected >= 1, got " + batch);
        if (threads < 0) throw new IllegalArgumentException("--threads: expected >= 1 (or 0 for all cores), got " + threads);
        String fmt = format != null ? format.toLowerCase(Locale.ROOT)
                : out != null && out.toString().toLowerCase(Locale.ROOT).endsWith(".npy") ? "npy" : "jsonl";
        if (!fmt.equals("jsonl") && !fmt.equals("npy")) throw new IllegalArgumentException("--format: expected jsonl or npy, got '" + format + "'");
        if (fmt.equals("npy") && out == null) throw new IllegalArgumentException("--format npy: needs --out FILE (binary output is not written to a terminal)");

        List<String> lines = input == null ? examples() : readLines(input);
        Embedder embedder = Embedder.load(model).withThreads(threads).withBatchSize(batch);
        if (maxTokens != null) {
            try {
                embedder = embedder.withMaxTokens(maxTokens);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--max-tokens: " + e.getMessage().replaceFirst("^maxTokens: ", ""), e);
            }
        }

        float[][] emb = new float[lines.size()][];
        int truncated = 0;
        Progress progress = new Progress(err, lines.size(), lines.size() > 2L * batch && System.console() != null);
        for (int from = 0; from < lines.size(); from += batch) {
            Embedder.Result r = embedder.run(lines.subList(from, Math.min(lines.size(), from + batch)));
            for (int i = 0; i < r.embeddings().length; i++) {
                emb[from + i] = r.embeddings()[i];
                if (r.encodings().get(i).truncated()) truncated++;
            }
            progress.update(from + r.embeddings().length);
        }
        progress.done();
        if (truncated > 0) {
            err.println("attn4j: warning: " + truncated + " line(s) longer than " + embedder.maxTokens() + " tokens were truncated");
        }
        if (input == null) {
            printSimilarities(spec.commandLine().getOut(), embedder, lines, emb);
            return 0;
        }
        if (fmt.equals("npy")) {
            float[] flat = new float[lines.size() * embedder.dimension()];
            for (int i = 0; i < emb.length; i++) System.arraycopy(emb[i], 0, flat, i * embedder.dimension(), embedder.dimension());
            Npy.write(out, Tensor.of(flat, lines.size(), embedder.dimension()));
        } else if (out == null) {
            writeJsonl(spec.commandLine().getOut(), emb);
        } else {
            AtomicFiles.write(out, os -> writeJsonl(new OutputStreamWriter(os, StandardCharsets.UTF_8), emb));
        }
        return 0;
    }

    private static void writeJsonl(Writer w, float[][] emb) throws IOException {
        ObjectMapper om = new ObjectMapper().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        for (int i = 0; i < emb.length; i++) {
            w.write("{\"index\": " + i + ", \"embedding\": ");
            w.write(om.writeValueAsString(emb[i]));
            w.write("}\n");
        }
        w.flush();
    }

    /** All lines, validated as UTF-8 before anything is embedded or written. */
    static List<String> readLines(String source) throws IOException {
        byte[] bytes;
        if (source.equals("-")) {
            bytes = readAll(System.in);
        } else {
            Path p = Path.of(source);
            if (!Files.isRegularFile(p)) throw new IllegalArgumentException("--input: file " + source + " does not exist");
            bytes = Files.readAllBytes(p);
        }
        var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> lines = new ArrayList<>();
        int start = 0, lineNo = 1;
        for (int i = 0; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == '\n') {
                if (i == bytes.length && start == i) break; // a final newline ends the last line, not a new one
                int end = i > start && bytes[i - 1] == '\r' ? i - 1 : i;
                try {
                    lines.add(decoder.decode(ByteBuffer.wrap(bytes, start, end - start)).toString());
                } catch (CharacterCodingException e) {
                    throw new IllegalArgumentException("--input: invalid UTF-8 on line " + lineNo + " (nothing was written)");
                }
                start = i + 1;
                lineNo++;
            }
        }
        return lines;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        in.transferTo(buf);
        return buf.toByteArray();
    }

    private static List<String> examples() throws IOException {
        try (InputStream in = Embedder.class.getResourceAsStream("examples.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        }
    }

    private static void printSimilarities(PrintWriter out, Embedder e, List<String> lines, float[][] emb) {
        out.printf(Locale.ROOT, "model %s: %d sentences -> %d-dim embeddings (mean of the last hidden state, L2-normalised)%n%n",
                e.name(), lines.size(), e.dimension());
        for (int i = 0; i < lines.size(); i++) out.printf(Locale.ROOT, "  [%d] %s%n", i, lines.get(i));
        out.printf("%ncosine similarity%n    ");
        for (int j = 0; j < lines.size(); j++) out.printf(Locale.ROOT, " %5s", "[" + j + "]");
        out.println();
        for (int i = 0; i < lines.size(); i++) {
            out.printf(Locale.ROOT, "%4s", "[" + i + "]");
            for (int j = 0; j < lines.size(); j++) {
                double c = 0;
                for (int x = 0; x < emb[i].length; x++) c += emb[i][x] * emb[j][x];
                out.printf(Locale.ROOT, " %5.2f", c);
            }
            out.println();
        }
        out.println();
        for (int i = 0; i < lines.size(); i++) {
            int best = -1;
            double bc = -2;
            for (int j = 0; j < lines.size(); j++) {
                if (j == i) continue;
                double c = 0;
                for (int x = 0; x < emb[i].length; x++) c += emb[i][x] * emb[j][x];
                if (c > bc) { bc = c; best = j; }
            }
            out.printf(Locale.ROOT, "  closest to [%d]: [%d] (%.2f)%n", i, best, bc);
        }
        out.flush();
    }

    /** A one-line progress bar on stderr, only when stderr is a terminal and the input is long. */
    private static final class Progress {
        private final PrintWriter err;
        private final int total;
        private final boolean on;
        private final long start = System.nanoTime();

        Progress(PrintWriter err, int total, boolean on) {
            this.err = err;
            this.total = total;
            this.on = on;
        }

        void update(int done) {
            if (!on) return;
            double s = (System.nanoTime() - start) / 1e9;
            int width = 30, filled = (int) ((long) width * done / Math.max(1, total));
            err.printf(Locale.ROOT, "\rembedding [%s%s] %d/%d lines, %.0f lines/s", "#".repeat(filled), " ".repeat(width - filled),
                    done, total, done / Math.max(s, 1e-9));
            err.flush();
        }

        void done() {
            if (on) err.println();
        }
    }
}
