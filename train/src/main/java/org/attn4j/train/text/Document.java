package org.attn4j.train.text;

import java.util.Map;

/**
 * One document of a text corpus.
 *
 * @param name     where it came from (a file name), unique within a corpus
 * @param text     its text
 * @param metadata anything else known about it (for the State of the Union corpus: {@code year},
 *                 {@code president}, {@code party})
 */
public record Document(String name, String text, Map<String, String> metadata) {
    public Document {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("name: expected a non-empty name");
        if (text == null) throw new IllegalArgumentException("text: expected a string for '" + name + "', got null");
        metadata = Map.copyOf(metadata);
    }
}
