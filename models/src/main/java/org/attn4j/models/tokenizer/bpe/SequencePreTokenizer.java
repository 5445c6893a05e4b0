package org.attn4j.models.tokenizer.bpe;

import java.util.ArrayList;
import java.util.List;

/**
 * Pre-tokenizers applied in turn: each splits every piece the previous one produced (Hugging
 * Face's {@code Sequence}; llama.cpp's list of regexes). StarCoder and SmolLM isolate digits first,
 * then split as GPT-2 does.
 */
public final class SequencePreTokenizer implements PreTokenizer {
    private final List<PreTokenizer> stages;

    public SequencePreTokenizer(List<PreTokenizer> stages) {
        if (stages == null || stages.isEmpty()) throw new IllegalArgumentException("stages: expected at least one pre-tokenizer");
        this.stages = List.copyOf(stages);
    }

    /** Digits one by one, then GPT-2's split (StarCoder, SmolLM, SmolLM2). */
    public static final SequencePreTokenizer DIGITS_THEN_GPT2 = new SequencePreTokenizer(List.of(new RegexPreTokenizer("\\p{N}"), RegexPreTokenizer.GPT2));

    public List<PreTokenizer> stages() { return stages; }

    @Override
    public List<String> split(String text) {
        List<String> pieces = List.of(text);
        for (PreTokenizer stage : stages) {
            List<String> next = new ArrayList<>();
            for (String p : pieces) next.addAll(stage.split(p));
            pieces = next;
        }
        return pieces;
    }

    @Override
    public String toString() { return "SequencePreTokenizer" + stages; }
}
