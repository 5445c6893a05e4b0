package org.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code attn4j train}: one small transformer on one task, with its metrics, curves and summary in {@code --out}. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Trains a small transformer on a generated task and writes config.json, metrics.jsonl, curves.png, "
                + "report.html and (last) summary.json into --out.",
                "Bad options exit with code 2 and one line naming the option."})
final class TrainCommand implements Callable<Integer>, Main.OneLineErrors {
    @Spec CommandSpec spec;

    @Mixin TrainingOptions options;

    @Option(names = "--attention", paramLabel = "NAME[:key=value]...", defaultValue = "full",
            description = "trainable attention by registry name, settings after colons, e.g. full:window=32 (default: ${DEFAULT-VALUE})")
    String attention;

    @Option(names = "--d-model", paramLabel = "C", defaultValue = "64", description = "model width (default: ${DEFAULT-VALUE})")
    int dModel;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "seed of the data stream and the initial weights (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "run directory (created)")
    Path out;

    @Option(names = "--resume", description = "continue the unfinished run in --out from its last checkpoint, with the same options "
            + "(a finished run is reported, not retrained)")
    boolean resume;

    @Option(names = "--export", paramLabel = "DIR",
            description = "after training, write the model as a Hugging Face directory (model.safetensors, config.json, tokenizer.json for lm): "
                    + "Llama layout with --norm rms / --mlp swiglu / --positions rope, else GPT-2")
    Path export;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter stdout = spec.commandLine().getOut();
        TrainingRun.Plan plan = TrainingRun.plan(options, attention, dModel, seed);
        TrainingRun.Export exportTo = export == null ? null : TrainingRun.export(plan, export);

        Path summary = out.resolve(TrainingRun.SUMMARY);
        boolean started = Files.exists(out.resolve(TrainingRun.CONFIG)) || Files.exists(out.resolve(TrainingRun.METRICS)) || Files.exists(summary);
        if (resume) {
            if (Files.exists(summary)) {
                TrainingRun.checkSameOptions(plan, out, "--resume");
                err.println("attn4j: " + out + " is a finished run; its summary:");
                err.flush();
                print(stdout, TrainingRun.JSON.readTree(summary.toFile()));
                return 0;
            }
            if (!started) throw new IllegalArgumentException("--resume: " + out + " holds no run to resume");
            TrainingRun.checkSameOptions(plan, out, "--resume");
        } else {
            if (started) throw new IllegalArgumentException("--out: " + out + " already holds a run; pass --resume or choose another directory");
            if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("--out: " + out + " is a file, not a directory");
        }

        err.printf(Locale.ROOT, "attn4j: training %s on %s (d_model %d, %d layers, %d heads, %d parameters), %d steps of %d tokens, into %s%n",
                attention, options.task, dModel, options.layers, options.heads, org.attn4j.train.model.TransformerLM.declare(plan.model()).size(),
                options.steps, plan.tokensPerStep(), out);
        err.flush();
        ObjectNode s = TrainingRun.execute(plan, out, err, "train", TrainingProgress.interactive(), resume, exportTo);
        print(stdout, s);
        return 0;
    }

    private static void print(PrintWriter out, JsonNode s) {
        out.printf(Locale.ROOT, "held-out accuracy %.2f %%, loss %.4f after %d steps%s; 99 %% %s; %.1f s, %s tokens/s%n",
                100 * s.path("final_accuracy").asDouble(), s.path("final_loss").asDouble(), s.path("steps").asInt(),
                s.path("stopped_on_time").asBoolean() ? " (stopped on --time-limit)" : "",
                s.path("steps_to_99").isNumber() ? "reached at step " + s.path("steps_to_99").asInt() : "not reached",
                s.path("wall_seconds").asDouble(), TrainingProgress.compact(s.path("tokens_per_second").asDouble()));
        out.flush();
    }
}
