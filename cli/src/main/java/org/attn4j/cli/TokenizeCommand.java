package org.attn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.attn4j.models.gguf.GgufFormatException;
import org.attn4j.models.tokenizer.Tokenizer;
import org.attn4j.models.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j tokenize}: token ids of text, as JSON arrays. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Token ids of TEXT, or of each line of --input, as one JSON array per input (no BOS/EOS added).",
                "The tokenizer comes from a .gguf file, a tokenizer.json, or a directory with tokenizer.json (or vocab.json + merges.txt)."})
final class TokenizeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH", description = "a .gguf file, a tokenizer.json, or a model directory") Path model;
    @Option(names = "--no-special", description = "treat the text of special tokens (such as <|endoftext|>) as plain text") boolean noSpecial;
    @Option(names = "--input", paramLabel = "FILE|-", description = "UTF-8 text, one input per line ('-' = standard input)") String input;
    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "the text (one input, newlines included)") String text;

    @Override
    public Integer call() throws IOException {
        if ((text == null) == (input == null)) throw new IllegalArgumentException("expected either TEXT or --input FILE, got " + (text == null ? "neither" : "both"));
        List<String> inputs = text != null ? List.of(text) : EmbedCommand.readLines(input);
        Tokenizer tok;
        try {
            tok = Tokenizers.load(model);
        } catch (GgufFormatException e) {
            throw new IllegalArgumentException(e.getMessage(), e); // a bad file is a usage error: exit 2, one line naming it
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--model: " + model + " does not exist", e);
        }
        PrintWriter out = spec.commandLine().getOut();
        StringBuilder b = new StringBuilder();
        for (String s : inputs) {
            int[] ids = tok.encode(s, !noSpecial);
            b.setLength(0);
            b.append('[');
            for (int i = 0; i < ids.length; i++) {
                if (i > 0) b.append(',');
                b.append(ids[i]);
            }
            out.println(b.append(']'));
        }
        out.flush();
        return 0;
    }
}
