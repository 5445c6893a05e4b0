package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.attn4j.core.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Keeps the documentation's examples working. Every {@code attn4j ...} command line in a fenced
 * block of README.md and docs/*.md (and every inline {@code `attn4j ... --option`} synopsis) must
 * name an existing subcommand and only options that subcommand has, checked against picocli's
 * model of {@link Main}; concrete command lines must also parse (types, arity, required options).
 * The cheap ones, which need no model and no network, are run.
 */
class DocExamplesTest {
    /** Handled by the ./attn4j launcher itself, not by Main. */
    private static final Set<String> LAUNCHER_COMMANDS = Set.of("test", "build", "jmh");
    /**
     * Subcommands that pages already describe while they are being built on other branches
     * (docs/training-tasks.md names {@code attn4j train}). Their lines are skipped until the command
     * exists; then {@link #plannedCommandsAreStillMissing} fails until the name is removed here, and
     * from then on their options are checked like every other command's.
     */
    private static final Set<String> PLANNED_COMMANDS = Set.of();
    /** Pages the front page links to that other modules add; absent until they land. */
    private static final Set<String> PENDING_PAGES = Set.of("docs/spark.md");

    @TempDir Path dir;

    /** One command line found in a page: where, its words after {@code attn4j}, and whether it is a synopsis. */
    record Example(String where, List<String> words, boolean synopsis) {}

    static Path root() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isRegularFile(p.resolve("attn4j"))) return p;
        }
        throw new IllegalStateException("no project root (README.md and attn4j) above " + here);
    }

    static List<Path> pages(Path root) throws IOException {
        List<Path> pages = new ArrayList<>(List.of(root.resolve("README.md")));
        try (Stream<Path> s = Files.list(root.resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    // ---- finding the examples ------------------------------------------------------------------

    private static final Pattern FENCE = Pattern.compile("^\\s*```\\s*([A-Za-z0-9_-]*)\\s*$");
    private static final Pattern INLINE = Pattern.compile("`((?:\\./)?attn4j [^`]*--[^`]*)`");
    /** The command word, optionally after environment assignments or a pipe. */
    private static final Pattern COMMAND = Pattern.compile("(?:^|[|;&]\\s*|^(?:[A-Z_][A-Z0-9_]*=(?:\"[^\"]*\"|\\S*)\\s+)+)(\\./)?attn4j(?:\\s+(.*))?$");

    /** The examples of one page's text: fenced blocks other than java/json/xml, and inline synopses. */
    static List<Example> examples(String page, String text) {
        List<Example> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        String fenceLang = null;
        for (int i = 0; i < lines.length; i++) {
            Matcher f = FENCE.matcher(lines[i]);
            if (f.matches()) {
                fenceLang = fenceLang == null ? f.group(1) : null;
                continue;
            }
            if (fenceLang == null) {
                Matcher m = INLINE.matcher(lines[i]);
                while (m.find()) addIfCommand(out, page + ":" + (i + 1), m.group(1), true, false);
                continue;
            }
            if (Set.of("java", "json", "xml", "python", "py").contains(fenceLang)) continue;
            int first = i;
            StringBuilder cmd = new StringBuilder(lines[i]);
            while (cmd.toString().stripTrailing().endsWith("\\") && i + 1 < lines.length) {
                String s = cmd.toString().stripTrailing();
                cmd.setLength(0);
                cmd.append(s, 0, s.length() - 1).append(' ').append(lines[++i].strip());
            }
            // An unlabelled fence may hold program output ("attn4j speed-up = ..."): there only ./attn4j is a command.
            addIfCommand(out, page + ":" + (first + 1), cmd.toString(), false, fenceLang.isEmpty());
        }
        return out;
    }

    private static void addIfCommand(List<Example> out, String where, String line, boolean inline, boolean needsDotSlash) {
        String code = stripComment(line).strip();
        Matcher m = COMMAND.matcher(code);
        if (!m.find() || needsDotSlash && m.group(1) == null) return;
        String rest = m.group(2) == null ? "" : m.group(2);
        boolean synopsis = inline || rest.contains("[") || rest.contains("...") || rest.matches(".*\\b[A-Z]{2,}\\b.*") && rest.contains("|");
        // In a synopsis " | " separates alternatives; in a command line it is a pipe that ends the command.
        out.add(new Example(where, words(synopsis ? rest.replace(" | ", " ") : rest), synopsis));
    }

    /** Drops a shell comment ({@code #} after whitespace, outside quotes). */
    static String stripComment(String line) {
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) { if (c == quote) quote = 0; continue; }
            if (c == '\'' || c == '"') quote = c;
            else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) return line.substring(0, i);
        }
        return line;
    }

    /** Shell words: whitespace-separated, single and double quotes grouping (enough for documentation). */
    static List<String> words(String s) {
        List<String> w = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean in = false;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) quote = 0; else cur.append(c);
            } else if (c == '\'' || c == '"') {
                quote = c;
                in = true;
            } else if (Character.isWhitespace(c)) {
                if (in) { w.add(cur.toString()); cur.setLength(0); in = false; }
            } else if (c == '|' || c == '>' || c == '<' || c == ';') {
                if (i > 0 && !Character.isWhitespace(s.charAt(i - 1)) || i + 1 < s.length() && !Character.isWhitespace(s.charAt(i + 1))) {
                    cur.append(c); in = true;       // inside a word (e.g. list|describe), not a shell operator
                } else {
                    break;                          // a pipe or redirection ends the command
                }
            } else {
                cur.append(c);
                in = true;
            }
        }
        if (in) w.add(cur.toString());
        return w;
    }

    // ---- checking them against picocli's model -------------------------------------------------

    /** What is wrong with one example (empty when nothing). */
    static List<String> problems(Example e) {
        List<String> problems = new ArrayList<>();
        List<String> w = e.words();
        if (w.isEmpty() || w.get(0).startsWith("-")) {
            if (!w.isEmpty()) checkOptions(e, new CommandLine(new Main()).getCommandSpec(), w, problems);
            return problems;
        }
        if (LAUNCHER_COMMANDS.contains(w.get(0))) return problems;
        if (PLANNED_COMMANDS.contains(w.get(0)) && !new CommandLine(new Main()).getSubcommands().containsKey(w.get(0))) return problems;
        // Walk the subcommands; a word like "list|describe" names alternatives, each must exist.
        List<CommandSpec> specs = List.of(new CommandLine(new Main()).getCommandSpec());
        int i = 0;
        for (; i < w.size(); i++) {
            String word = w.get(i);
            if (word.startsWith("-") || word.startsWith("[")) break;
            if (!specs.get(0).subcommands().isEmpty()) {
                List<CommandSpec> next = new ArrayList<>();
                for (CommandSpec spec : specs) {
                    for (String alt : word.split("\\\\?\\|")) {
                        CommandLine sub = spec.subcommands().get(alt);
                        if (sub == null) {
                            problems.add(e.where() + ": 'attn4j " + String.join(" ", w) + "': no subcommand '" + alt + "' under '"
                                    + spec.qualifiedName() + "' (it has " + spec.subcommands().keySet() + ")");
                        } else {
                            next.add(sub.getCommandSpec());
                        }
                    }
                }
                if (!problems.isEmpty()) return problems;
                specs = next;
            } else {
                break; // a positional parameter
            }
        }
        for (CommandSpec spec : specs) checkOptions(e, spec, w.subList(i, w.size()), problems);
        if (problems.isEmpty() && !e.synopsis() && specs.size() == 1) {
            try {
                new CommandLine(new Main()).parseArgs(w.toArray(String[]::new));
            } catch (CommandLine.ParameterException ex) {
                problems.add(e.where() + ": 'attn4j " + String.join(" ", w) + "' does not parse: " + ex.getMessage());
            }
        }
        return problems;
    }

    private static final Pattern OPTION = Pattern.compile("(?<![\\w-])(--?[A-Za-z][A-Za-z0-9-]*)");

    private static void checkOptions(Example e, CommandSpec spec, List<String> words, List<String> problems) {
        for (String word : words) {
            // In a synopsis options sit inside brackets ([--json FILE], [--importance [--quick]]); in a
            // concrete line an option is a whole word or the part before '='.
            Matcher m = OPTION.matcher(e.synopsis() ? word : word.split("=", 2)[0]);
            while (m.find()) {
                if (!e.synopsis() && m.start() != 0) break;
                String name = m.group(1);
                if (!e.synopsis() && !word.startsWith("-")) break;
                if (name.matches("-\\d.*")) continue;
                if (spec.findOption(name) == null) {
                    problems.add(e.where() + ": 'attn4j " + String.join(" ", e.words()) + "': '" + spec.qualifiedName()
                            + "' has no option " + name);
                }
            }
        }
    }

    // ---- the tests -----------------------------------------------------------------------------

    @Test
    void everyDocumentedCommandNamesExistingSubcommandsAndOptions() throws IOException {
        Path root = root();
        List<String> problems = new ArrayList<>();
        int count = 0;
        for (Path page : pages(root)) {
            for (Example e : examples(root.relativize(page).toString(), Files.readString(page))) {
                count++;
                problems.addAll(problems(e));
            }
        }
        System.out.println("[docs] " + count + " attn4j command lines checked");
        assertTrue(count >= 20, "expected the docs to hold at least 20 attn4j command lines, found " + count);
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void aDocumentedOptionThatDoesNotExistIsCaught() {
        String page = """
                Some text with `attn4j sdpa [--q Q.npy] [--frobnicate]` inline.

                ```bash
                ./attn4j embed --input - --no-such-option 3        # a comment with --ignored
                JAVA_OPTS=-Xmx1g ./attn4j bench sdpa --shape 1,8,64,64 --threads 1,2
                ./attn4j bench warp --quick
                ./attn4j variants list|frob
                ./attn4j sdpa --q q.npy --k k.npy --v v.npy --out o.npy --threads many
                ./attn4j test
                ```
                """;
        List<Example> ex = examples("fake.md", page);
        assertEquals(7, ex.size(), ex.toString());
        List<String> p0 = problems(ex.get(0));
        assertEquals(1, p0.size(), p0.toString());
        assertTrue(p0.get(0).contains("has no option --frobnicate"), p0.toString());
        List<String> p1 = problems(ex.get(1));
        assertEquals(1, p1.size(), p1.toString());
        assertTrue(p1.get(0).contains("fake.md:4") && p1.get(0).contains("has no option --no-such-option"), p1.toString());
        assertEquals(List.of(), problems(ex.get(2)), "a valid bench sdpa line after an environment assignment");
        assertTrue(problems(ex.get(3)).toString().contains("no subcommand 'warp'"), problems(ex.get(3)).toString());
        assertTrue(problems(ex.get(4)).toString().contains("no subcommand 'frob'"), problems(ex.get(4)).toString());
        assertTrue(problems(ex.get(5)).toString().contains("does not parse"), "--threads takes an integer: " + problems(ex.get(5)));
        assertEquals(List.of(), problems(ex.get(6)), "test is the launcher's");
    }

    @Test
    void plannedCommandsAreStillMissing() {
        for (String planned : PLANNED_COMMANDS) {
            assertFalse(new CommandLine(new Main()).getSubcommands().containsKey(planned),
                    "'attn4j " + planned + "' exists now: remove it from DocExamplesTest.PLANNED_COMMANDS so its documented options are checked");
        }
    }

    @Test
    void theLauncherRunsTheTestSuiteAsTheFrontPageSays() throws IOException {
        Path root = root();
        String launcher = Files.readString(root.resolve("attn4j"));
        assertTrue(Pattern.compile("(?m)^\\s*test\\)\\s*$").matcher(launcher).find(), "./attn4j must handle 'test'");
        assertTrue(launcher.contains("verify"), "./attn4j test must run mvnw verify");
        assertTrue(Files.readString(root.resolve(".ci/run")).contains("./attn4j test"), ".ci/run must run ./attn4j test");
        assertTrue(Files.readString(root.resolve("README.md")).contains("./attn4j test"), "README must give ./attn4j test");
    }

    @Test
    void linksBetweenPagesResolve() throws IOException {
        Path root = root();
        Pattern link = Pattern.compile("\\]\\(([^)#\\s]+\\.md)(#[^)]*)?\\)");
        List<String> broken = new ArrayList<>();
        for (Path page : pages(root)) {
            Matcher m = link.matcher(Files.readString(page));
            while (m.find()) {
                if (m.group(1).startsWith("http")) continue;
                Path target = page.getParent().resolve(m.group(1)).normalize();
                String rel = root.relativize(target).toString();
                if (!Files.isRegularFile(target) && !PENDING_PAGES.contains(rel)) broken.add(root.relativize(page) + " -> " + m.group(1));
            }
        }
        assertTrue(broken.isEmpty(), "links to missing pages: " + broken);
    }

    /**
     * Runs the documented commands that need no model and no network: {@code variants list},
     * {@code variants describe}, and {@code sdpa} / {@code variant} lines without gradients, on
     * q/k/v files of the shapes the README's numpy line makes ([1,8,100,64], [1,2,100,64]).
     */
    @Test
    void theCheapExamplesRun() throws IOException {
        Path root = root();
        Random r = new Random(7);
        Npy.write(dir.resolve("q.npy"), CliTest.gaussian(r, 1, 8, 100, 64));
        Npy.write(dir.resolve("k.npy"), CliTest.gaussian(r, 1, 2, 100, 64));
        Npy.write(dir.resolve("v.npy"), CliTest.gaussian(r, 1, 2, 100, 64));
        int ran = 0;
        for (Path page : pages(root)) {
            for (Example e : examples(root.relativize(page).toString(), Files.readString(page))) {
                List<String> w = e.words();
                if (e.synopsis() || w.isEmpty()) continue;
                boolean cheap = w.get(0).equals("variants")
                        || (w.get(0).equals("sdpa") || w.get(0).equals("variant"))
                        && !w.contains("--dout") && !w.contains("--mask") && !w.contains("--bias")
                        && Set.of("q.npy", "k.npy", "v.npy").containsAll(w.stream().filter(s -> s.endsWith(".npy")
                                && w.indexOf(s) > 0 && List.of("--q", "--k", "--v").contains(w.get(w.indexOf(s) - 1))).toList());
                if (!cheap) continue;
                List<String> args = w.stream().map(s -> s.endsWith(".npy") ? dir.resolve(s).toString() : s).toList();
                CliTest.Run res = CliTest.run(args.toArray(String[]::new));
                assertEquals(0, res.code(), e.where() + ": attn4j " + String.join(" ", w) + "\n" + res.err());
                int out = args.indexOf("--out");
                if (out >= 0) assertTrue(Files.size(Path.of(args.get(out + 1))) > 128, e.where() + ": no output file");
                else assertFalse(res.out().isBlank(), e.where() + ": nothing printed");
                ran++;
            }
        }
        System.out.println("[docs] " + ran + " documented commands run");
        assertTrue(ran >= 4, "expected to run at least 4 documented commands, ran " + ran);
    }
}
