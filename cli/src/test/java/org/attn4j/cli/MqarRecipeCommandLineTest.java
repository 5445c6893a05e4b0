package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.attn4j.train.recipes.MqarTarget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MQAR recipes' printed {@code attn4j train} lines train the same run as {@link MqarTarget#run}:
 * a few steps of each recipe (the 16-pair one with its attention-only blocks, and with a training mixture of pair counts), cut
 * short by overrides, give the same held-out loss and accuracy bit for bit both ways.
 */
class MqarRecipeCommandLineTest {
    @TempDir Path dir;

    @Test
    void commandLineTrainsWhatTheRecipeTrains() throws IOException {
        MqarTarget.Recipe mixture = MqarTarget.Recipe.sixteenPairs().with(Map.of("mix", "4,8,16"));
        for (MqarTarget.Recipe base : List.of(MqarTarget.Recipe.defaults(), MqarTarget.Recipe.sixteenPairs(), mixture)) {
            MqarTarget.Recipe r = base.with(Map.of("steps", "6", "evalEvery", "3", "evalBatches", "1", "batch", "4", "warmup", "2", "seed", "5"));
            MqarTarget.Outcome direct = MqarTarget.run(r, null);

            List<String> args = new ArrayList<>(Arrays.asList(r.commandLine().split(" ")));
            assertEquals("attn4j", args.remove(0));
            int out = args.indexOf("--out");
            Path runDir = dir.resolve("kv" + r.kvPairs() + "-" + r.trainKv().size());
            args.set(out + 1, runDir.toString());
            CliTest.Run run = CliTest.run(args.toArray(String[]::new));
            assertEquals(0, run.code(), run.err());
            JsonNode s = new ObjectMapper().readTree(Files.readString(runDir.resolve("summary.json")));
            assertEquals(direct.loss(), s.path("final_loss").asDouble(), "held-out loss, kv=" + r.kvPairs());
            assertEquals(direct.accuracy(), s.path("final_accuracy").asDouble(), "held-out accuracy, kv=" + r.kvPairs());
            assertEquals(direct.steps(), s.path("steps").asInt());
        }
    }
}
