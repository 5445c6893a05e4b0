package org.attn4j.models.tokenizer.bpe;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pre-tokenizer that cuts text at the matches of a regular expression: every match is a piece, and
 * so is any text between matches (Hugging Face's {@code Split} with behaviour {@code Isolated}; with
 * GPT-2's pattern nothing falls between matches, since its last alternative {@code \s+} catches the rest).
 *
 * <p>Patterns run with {@link Pattern#UNICODE_CHARACTER_CLASS}, so {@code \s} is Unicode
 * White_Space as in the Rust regex crate that Hugging Face uses, and {@code \p{L}}/{@code \p{N}} are
 * the Unicode letter and number categories.
 */
public final class RegexPreTokenizer implements PreTokenizer {

    /** GPT-2's pattern (also GPT-3, RoBERTa and Hugging Face's {@code ByteLevel} with {@code use_regex}). */
    public static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Llama 3's pattern (its {@code tokenizer.json}; llama.cpp's {@code llama-bpe}): numbers in runs of up to three digits, newlines kept with punctuation. */
    public static final String LLAMA3_PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** Qwen2's pattern (also Qwen2.5 and Qwen3): as Llama 3's but every digit on its own. */
    public static final String QWEN2_PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** GPT-2's pre-tokenizer. */
    public static final RegexPreTokenizer GPT2 = new RegexPreTokenizer(GPT2_PATTERN);

    private final String source;
    private final Pattern pattern;

    /** A pre-tokenizer on {@code regex}; throws IllegalArgumentException naming the pattern if it does not compile. */
    public RegexPreTokenizer(String regex) {
        try {
            this.pattern = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("pattern: not a valid regular expression: " + e.getMessage(), e);
        }
        this.source = regex;
    }

    /** The pattern as given. */
    public String pattern() { return source; }

    @Override
    public List<String> split(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) out.add(text.substring(last, m.start()));
            if (m.end() > m.start()) out.add(text.substring(m.start(), m.end()));
            last = m.end();
        }
        if (last < text.length()) out.add(text.substring(last));
        return out;
    }

    @Override
    public String toString() { return "RegexPreTokenizer[" + source + "]"; }
}
