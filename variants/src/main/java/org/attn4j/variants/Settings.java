package org.attn4j.variants;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Textual hyper-parameters ({@code key=value} pairs from {@code --set}), read by type with
 * defaults. Every read marks its key as used; {@link #finish} rejects keys nobody read, so a typo
 * ({@code kernal=7}) is an error, never silently ignored.
 *
 * <p>Contract of every typed accessor ({@link #string}, {@link #integer}, {@link #real},
 * {@link #bool}, {@link #integers}, {@link #choice}): it marks {@code key} as used whether or not
 * the key was given (so {@link #finish} accepts it); it returns {@code def} when the key is absent;
 * a value that does not parse as the type throws IllegalArgumentException whose message starts with
 * {@code key + ":"} and quotes the value (an empty value, {@code kernel=}, is such a value, not
 * "absent"). Values are trimmed. An instance is for one builder on one thread: it is not thread-safe.
 */
public final class Settings {
    private final Map<String, String> values;
    private final Set<String> used = new LinkedHashSet<>();

    private Settings(Map<String, String> values) {
        this.values = values;
    }

    public static Settings empty() { return new Settings(new LinkedHashMap<>()); }

    /** From {@code key=value} strings; a key given twice is an error. */
    public static Settings parse(Iterable<String> pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("--set: expected key=value, got '" + pair + "'");
            String key = pair.substring(0, eq).trim(), value = pair.substring(eq + 1).trim();
            if (m.put(key, value) != null) throw new IllegalArgumentException("--set: key '" + key + "' given twice");
        }
        return new Settings(m);
    }

    public static Settings of(String... pairs) { return parse(Arrays.asList(pairs)); }

    /** Whether {@code key} was given; does not mark it as used. */
    public boolean has(String key) { return values.containsKey(key); }

    /** The value as given (trimmed), or {@code def}. */
    public String string(String key, String def) {
        used.add(key);
        return values.getOrDefault(key, def);
    }

    /** A decimal int ({@link Integer#parseInt}), or {@code def}; range checks are the caller's. */
    public int integer(String key, int def) {
        String s = string(key, null);
        if (s == null) return def;
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": expected an integer, got '" + s + "'");
        }
    }

    /** A number ({@link Double#parseDouble}; NaN and Infinity parse too, ranges are the caller's to check), or {@code def}. */
    public double real(String key, double def) {
        String s = string(key, null);
        if (s == null) return def;
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": expected a number, got '" + s + "'");
        }
    }

    /** true/yes/1/on or false/no/0/off (any case), or {@code def}. */
    public boolean bool(String key, boolean def) {
        String s = string(key, null);
        if (s == null) return def;
        return switch (s.toLowerCase()) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new IllegalArgumentException(key + ": expected true or false, got '" + s + "'");
        };
    }

    /**
     * Integers separated by {@code x} or {@code ,} ({@code grid=64x64}, {@code kernel=7,7}); a single
     * value is repeated to {@code dims} entries; null (no value) returns {@code def}.
     */
    public int[] integers(String key, int dims, int[] def) {
        String s = string(key, null);
        if (s == null) return def == null ? null : def.clone();
        String[] parts = s.split("[x,]", -1); // -1 keeps trailing empty parts: "64x" is malformed, not "64"
        int[] out = new int[parts.length == 1 ? dims : parts.length];
        try {
            for (int i = 0; i < out.length; i++) out[i] = Integer.parseInt(parts[parts.length == 1 ? 0 : i].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": expected integers such as 7 or 7x7, got '" + s + "'");
        }
        if (out.length != dims) throw new IllegalArgumentException(key + ": expected " + dims + " values, got " + out.length + " in '" + s + "'");
        return out;
    }

    /** One of {@code choices} (case-insensitive), returned as spelled in {@code choices}; {@code def} when absent. */
    public String choice(String key, String def, String... choices) {
        String s = string(key, def);
        for (String c : choices) if (c.equalsIgnoreCase(s)) return c;
        throw new IllegalArgumentException(key + ": expected one of " + String.join(", ", choices) + ", got '" + s + "'");
    }

    /** Rejects keys that were given but never read. */
    public void finish(String variant) {
        Set<String> unknown = new LinkedHashSet<>(values.keySet());
        unknown.removeAll(used);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("--set: " + variant + " has no parameter " + String.join(", ", unknown)
                    + (used.isEmpty() ? " (it takes none)" : "; it takes " + String.join(", ", used)));
        }
    }
}
