package org.attn4j.core.io;

/**
 * A {@code .npy} file (or stream) that is malformed or uses a feature {@link Npy} does not
 * support. The message is {@code "<source>: <problem>"}, where the source is the file path or the
 * name given for a stream.
 */
public class NpyFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String problem;

    public NpyFormatException(String source, String problem) {
        super(source + ": " + problem);
        this.source = source;
        this.problem = problem;
    }

    /** The file path or stream name the problem was found in. */
    public String source() {
        return source;
    }

    /** What is wrong, without the source prefix. */
    public String problem() {
        return problem;
    }
}
