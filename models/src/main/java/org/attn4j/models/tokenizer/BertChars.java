package org.attn4j.models.tokenizer;

/**
 * Character classes of Hugging Face's BertNormalizer and BertPreTokenizer, by code point.
 * <p>
 * Whitespace is Rust's {@code char::is_whitespace} (the Unicode White_Space property), not Java's
 * {@link Character#isWhitespace}. Control, non-spacing mark and punctuation use the Unicode general categories as
 * Hugging Face's Unicode 8.0 tables have them (see {@link UnicodeAge}).
 */
final class BertChars {

    private BertChars() {}

    /** Unicode White_Space, plus tab/newline/carriage return (already in it). */
    static boolean isWhitespace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** Categories Cc, Cf, Co and Cs, except tab, newline and carriage return (those count as whitespace). */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        int t = Character.getType(cp);
        return switch (t) {
            case Character.CONTROL, Character.PRIVATE_USE, Character.SURROGATE -> true;
            case Character.FORMAT -> !UnicodeAge.newerThanTables(cp);
            default -> false;
        };
    }

    /** The CJK ideograph blocks Hugging Face surrounds with spaces (its ranges, including its 0x2B920 start). */
    static boolean isChinese(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF)
                || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /** Category Mn (removed when stripping accents). */
    static boolean isNonSpacingMark(int cp) {
        return (Character.getType(cp) == Character.NON_SPACING_MARK && !UnicodeAge.newerThanTables(cp))
                || UnicodeAge.olderNonSpacingMark(cp);
    }

    /** ASCII punctuation (33-47, 58-64, 91-96, 123-126: includes $ + < = > ^ ` |) or any Unicode P* category. */
    static boolean isPunctuation(int cp) {
        if (cp < 128) {
            return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
        }
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> !UnicodeAge.newerThanTables(cp);
            default -> UnicodeAge.olderPunctuation(cp);
        };
    }

    /**
     * Appends the lowercase of {@code cp} as Rust's {@code char::to_lowercase} does: per code point (no final-sigma
     * context), full mapping (U+0130 becomes "i" + U+0307).
     */
    static void appendLowerCase(StringBuilder sb, int cp) {
        if (cp == 0x130) {
            sb.append('i').append('\u0307');
        } else {
            sb.appendCodePoint(Character.toLowerCase(cp));
        }
    }
}
