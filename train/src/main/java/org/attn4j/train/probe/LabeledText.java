package org.attn4j.train.probe;

/**
 * One labelled example for probing.
 *
 * @param text  the input text (non-null)
 * @param label its class name (non-empty)
 * @param group what it must stay together with across a train/eval split (e.g. the speech a
 *              passage comes from); the text's own identity when it has none
 */
public record LabeledText(String text, String label, String group) {
    public LabeledText {
        if (text == null) throw new IllegalArgumentException("text: expected a string, got null");
        if (label == null || label.isEmpty()) throw new IllegalArgumentException("label: expected a non-empty class name, got '" + label + "'");
        if (group == null) group = "";
    }

    public LabeledText(String text, String label) { this(text, label, ""); }
}
