package org.attn4j.models.gguf;

import java.io.IOException;

/** A file that is not a well-formed GGUF file; the message names the file and what is wrong with it. */
public final class GgufFormatException extends IOException {
    public GgufFormatException(String message) { super(message); }
}
