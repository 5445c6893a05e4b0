package org.attn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code attn4j} command. Exit codes: 0 ok, 1 I/O failure, 2 bad input or usage. */
@Command(name = "attn4j", mixinStandardHelpOptions = true, version = "attn4j 0.1.0",
        description = "Exact, fast scaled-dot-product attention for the JVM.",
        subcommands = {EmbedCommand.class, ExplainCommand.class, SdpaCommand.class, VariantsCommand.class, VariantCommand.class, BenchCommand.class,
                TrainCommand.class, CompareCommand.class, TokenizeCommand.class, GenerateCommand.class, SparkCommand.class, ServeCommand.class, ProbeCommand.class,
                DistillCommand.class})
public final class Main implements Runnable {

    /** A subcommand whose usage errors are one line naming the option (its help stays one --help away). */
    interface OneLineErrors {}

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit code (tests call this). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        CommandLine.IParameterExceptionHandler usageErrors = cl.getParameterExceptionHandler();
        cl.setParameterExceptionHandler((ex, a) -> {
            if (!(ex.getCommandLine().getCommand() instanceof OneLineErrors)) return usageErrors.handleParseException(ex, a);
            err.println("attn4j: error: " + ex.getMessage() + " (see attn4j " + ex.getCommandLine().getCommandName() + " --help)");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof IllegalArgumentException) {
                err.println("attn4j: error: " + ex.getMessage());
                return 2;
            }
            if (ex instanceof IOException || ex instanceof java.io.UncheckedIOException) {
                err.println("attn4j: I/O error: " + ex.getMessage());
                return 1;
            }
            throw ex;
        });
        return cl.execute(args);
    }
}
