package org.attn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.attn4j.variants.VariantFactory;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.trainable.TrainableRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j variants list|describe}: what the variant library holds. */
@Command(name = "variants", mixinStandardHelpOptions = true, description = "The attention mechanisms of the research papers: list them, or describe one's parameters.",
        subcommands = {VariantsCommand.ListVariants.class, VariantsCommand.Describe.class})
final class VariantsCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every registered variant: name, paper, family, exact or approximate, trainable (has a backward for 'attn4j train').")
    static final class ListVariants implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--json", description = "print a JSON array instead of the table") boolean json;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectMapper om = new ObjectMapper();
                ArrayNode arr = om.createArrayNode();
                for (VariantFactory f : VariantRegistry.all()) {
                    VariantInfo i = f.info();
                    ObjectNode n = arr.addObject();
                    n.put("name", i.name()).put("paper", i.paper()).put("title", i.title()).put("family", i.family().name())
                            .put("exact", i.exact()).put("trainable", TrainableRegistry.isTrainable(i.name())).put("summary", i.summary());
                    ArrayNode ps = n.putArray("params");
                    f.params().forEach(ps::add);
                }
                out.println(om.writerWithDefaultPrettyPrinter().writeValueAsString(arr));
            } else {
                out.printf(Locale.ROOT, "%-24s %-8s %-3s %-11s %-9s %s%n", "name", "paper", "fam", "kind", "trainable", "what it does");
                for (VariantFactory f : VariantRegistry.all()) {
                    VariantInfo i = f.info();
                    out.printf(Locale.ROOT, "%-24s %-8s %-3s %-11s %-9s %s%n", i.name(), i.paper(), i.family().name(),
                            i.exact() ? "exact" : "approximate", TrainableRegistry.isTrainable(i.name()) ? "yes" : "no", i.summary());
                }
                out.printf(Locale.ROOT, "%d variants. 'attn4j variants describe NAME' shows one's paper and parameters.%n", VariantRegistry.all().size());
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = "One variant's paper, family and parameters (the keys 'attn4j variant NAME --set key=value' accepts).")
    static final class Describe implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Parameters(paramLabel = "NAME", description = "registry name, e.g. neighborhood-2d") String name;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            VariantFactory f = VariantRegistry.get(name);
            VariantInfo i = f.info();
            out.printf("%s — %s: %s%n", i.name(), i.paper(), i.title());
            out.printf("family %s (%s), %s%n", i.family().name(), i.family().title(),
                    i.exact() ? "exact: computes its paper's function exactly (tested against the reference kernel or a direct computation)"
                            : "approximate or a different operator than softmax attention");
            out.println(i.summary());
            out.println(TrainableRegistry.isTrainable(i.name()) ? "trainable: yes (docs/variants-training.md lists its training settings)" : "trainable: no (forward only)");
            out.println(f.params().isEmpty() ? "parameters: none" : "parameters (--set key=value):");
            for (String p : f.params()) out.println("  " + p);
            out.flush();
            return 0;
        }
    }
}
