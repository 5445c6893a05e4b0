package org.attn4j.models.tokenizer.bpe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attn4j.models.io.AtomicFile;

/**
 * Hugging Face {@code tokenizer.json} for byte-level BPE: model type {@code BPE} with its
 * {@code vocab} and {@code merges}, {@code added_tokens}, and byte-level pre-tokenizer and decoder.
 *
 * <p>Written: GPT-2's layout ({@code ByteLevel} pre-tokenizer with {@code use_regex} when the
 * pre-tokenizer is GPT-2's; otherwise {@code Sequence[Split(Regex, Isolated), ByteLevel(use_regex=false)]},
 * the layout of Llama 3 and Qwen), the {@code ByteLevel} decoder, merges as {@code "left right"}
 * strings. Read: the same, plus merges as {@code [left, right]} pairs and an {@code NFC} normalizer.
 * Anything else (other model types, normalizers or pre-tokenizers, {@code byte_fallback}, subword
 * prefixes) is refused with an error naming the field, never silently approximated.
 */
public final class TokenizerJson {
    private TokenizerJson() {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The {@code tokenizer.json} document of {@code tok}. */
    public static String toJson(ByteLevelBpe tok) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (ByteLevelBpe.AddedToken a : tok.addedTokens()) {
            ObjectNode t = added.addObject();
            t.put("id", a.id());
            t.put("content", a.content());
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", a.special());
        }
        if (tok.nfc()) root.putObject("normalizer").put("type", "NFC");
        else root.putNull("normalizer");
        PreTokenizer pt = tok.preTokenizer();
        if (!(pt instanceof RegexPreTokenizer rx)) throw new IllegalArgumentException("tok: only regex pre-tokenizers can be written, got " + pt);
        if (rx.pattern().equals(RegexPreTokenizer.GPT2_PATTERN)) {
            byteLevel(root.putObject("pre_tokenizer"), tok.addPrefixSpace(), true);
        } else {
            ObjectNode seq = root.putObject("pre_tokenizer");
            seq.put("type", "Sequence");
            ArrayNode list = seq.putArray("pretokenizers");
            ObjectNode split = list.addObject();
            split.put("type", "Split");
            split.putObject("pattern").put("Regex", rx.pattern());
            split.put("behavior", "Isolated");
            split.put("invert", false);
            byteLevel(list.addObject(), tok.addPrefixSpace(), false);
        }
        byteLevel(root.putObject("post_processor"), true, true).put("trim_offsets", false);
        byteLevel(root.putObject("decoder"), true, true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", tok.ignoreMerges());
        ObjectNode vocab = model.putObject("vocab");
        for (Map.Entry<String, Integer> e : tok.vocab().entrySet()) vocab.put(e.getKey(), e.getValue());
        ArrayNode merges = model.putArray("merges");
        for (String[] m : tok.merges()) merges.add(m[0] + " " + m[1]);
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode byteLevel(ObjectNode n, boolean addPrefixSpace, boolean useRegex) {
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", true);
        n.put("use_regex", useRegex);
        return n;
    }

    /** Writes {@code tok} to {@code file} atomically: a crash leaves either the old file or the whole new one. */
    public static void write(ByteLevelBpe tok, Path file) throws IOException {
        AtomicFile.write(file, toJson(tok).getBytes(StandardCharsets.UTF_8));
    }

    /** Reads a byte-level BPE {@code tokenizer.json}. */
    public static ByteLevelBpe read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "tokenizer file not found");
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /**
     * Reads GPT-2's original pair of files: {@code vocabJson} ({@code vocab.json} or
     * {@code encoder.json}: token to id) and {@code mergesTxt} ({@code merges.txt} or
     * {@code vocab.bpe}: an optional {@code #version} line, then one {@code left right} merge per
     * line). GPT-2's pre-tokenizer; {@code <|endoftext|>}, if in the vocabulary, is a special added token.
     */
    public static ByteLevelBpe readVocabAndMerges(Path vocabJson, Path mergesTxt) throws IOException {
        for (Path f : new Path[] {vocabJson, mergesTxt}) {
            if (!Files.isRegularFile(f)) throw new NoSuchFileException(f.toString(), null, "tokenizer file not found");
        }
        JsonNode v;
        try {
            v = JSON.readTree(Files.readString(vocabJson, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(vocabJson + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (v == null || !v.isObject()) throw new IllegalArgumentException(vocabJson + ": expected a JSON object of token -> id");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt()) throw new IllegalArgumentException(vocabJson + ": ['" + e.getKey() + "']: expected an integer id, got " + e.getValue());
            vocab.put(e.getKey(), e.getValue().intValue());
        }
        List<String[]> merges = new ArrayList<>();
        List<String> lines = Files.readAllLines(mergesTxt, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if ((i == 0 && line.startsWith("#version")) || line.isEmpty()) continue;
            int sp = line.indexOf(' ', 1);
            if (sp <= 0 || sp == line.length() - 1 || line.indexOf(' ', sp + 1) >= 0) {
                throw new IllegalArgumentException(mergesTxt + ": line " + (i + 1) + ": expected 'left right', got '" + line + "'");
            }
            merges.add(new String[] {line.substring(0, sp), line.substring(sp + 1)});
        }
        List<ByteLevelBpe.AddedToken> added = new ArrayList<>();
        Integer eot = vocab.remove("<|endoftext|>");
        if (eot != null) added.add(new ByteLevelBpe.AddedToken(eot, "<|endoftext|>", true));
        return ByteLevelBpe.gpt2Style(vocab, merges, added);
    }

    /** Parses a byte-level BPE {@code tokenizer.json} document; {@code source} names it in errors. */
    public static ByteLevelBpe parse(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(source + ": expected a JSON object");
        JsonNode model = root.path("model");
        String type = model.path("type").asText("");
        if (!type.equals("BPE")) throw new IllegalArgumentException(source + ": model.type: expected BPE, got '" + type + "'");
        if (model.path("byte_fallback").asBoolean(false)) throw new IllegalArgumentException(source + ": model.byte_fallback: expected false (byte-level BPE), got true");
        for (String f : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonNode v = model.path(f);
            if (!v.isMissingNode() && !v.isNull() && !v.asText().isEmpty()) throw new IllegalArgumentException(source + ": model." + f + ": expected none, got '" + v.asText() + "'");
        }

        JsonNode v = model.path("vocab");
        if (!v.isObject()) throw new IllegalArgumentException(source + ": model.vocab: expected an object of token -> id");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt()) throw new IllegalArgumentException(source + ": model.vocab['" + e.getKey() + "']: expected an integer id, got " + e.getValue());
            vocab.put(e.getKey(), e.getValue().intValue());
        }
        List<String[]> merges = new ArrayList<>();
        JsonNode m = model.path("merges");
        if (!m.isMissingNode() && !m.isArray()) throw new IllegalArgumentException(source + ": model.merges: expected an array");
        for (int i = 0; i < m.size(); i++) {
            JsonNode e = m.get(i);
            String[] pair;
            if (e.isTextual()) {
                int sp = e.asText().indexOf(' ');
                if (sp <= 0 || sp == e.asText().length() - 1) throw new IllegalArgumentException(source + ": model.merges[" + i + "]: expected 'left right', got '" + e.asText() + "'");
                pair = new String[] {e.asText().substring(0, sp), e.asText().substring(sp + 1)};
            } else if (e.isArray() && e.size() == 2 && e.get(0).isTextual() && e.get(1).isTextual()) {
                pair = new String[] {e.get(0).asText(), e.get(1).asText()};
            } else {
                throw new IllegalArgumentException(source + ": model.merges[" + i + "]: expected 'left right' or [left, right], got " + e);
            }
            merges.add(pair);
        }
        List<ByteLevelBpe.AddedToken> added = new ArrayList<>();
        for (JsonNode a : root.path("added_tokens")) {
            added.add(new ByteLevelBpe.AddedToken(a.path("id").asInt(-1), a.path("content").asText(""), a.path("special").asBoolean(false)));
        }

        boolean nfc = false;
        JsonNode norm = root.path("normalizer");
        if (!norm.isMissingNode() && !norm.isNull()) {
            if (!norm.path("type").asText("").equals("NFC")) throw new IllegalArgumentException(source + ": normalizer: only none or NFC are supported, got " + norm.path("type"));
            nfc = true;
        }
        JsonNode pt = root.path("pre_tokenizer");
        PreTokenizer pre;
        boolean prefix;
        String ptType = pt.path("type").asText("");
        if (ptType.equals("ByteLevel")) {
            if (!pt.path("use_regex").asBoolean(true)) throw new IllegalArgumentException(source + ": pre_tokenizer: ByteLevel without use_regex is not supported alone");
            pre = RegexPreTokenizer.GPT2;
            prefix = pt.path("add_prefix_space").asBoolean(false);
        } else if (ptType.equals("Sequence") && pt.path("pretokenizers").size() == 2
                && pt.path("pretokenizers").get(0).path("type").asText("").equals("Split")
                && pt.path("pretokenizers").get(1).path("type").asText("").equals("ByteLevel")) {
            JsonNode split = pt.path("pretokenizers").get(0), bl = pt.path("pretokenizers").get(1);
            String regex = split.path("pattern").path("Regex").asText(null);
            if (regex == null) throw new IllegalArgumentException(source + ": pre_tokenizer.pretokenizers[0].pattern: expected a Regex");
            if (!split.path("behavior").asText("").equals("Isolated") || split.path("invert").asBoolean(false)) {
                throw new IllegalArgumentException(source + ": pre_tokenizer.pretokenizers[0]: only behavior Isolated without invert is supported");
            }
            if (bl.path("use_regex").asBoolean(true)) throw new IllegalArgumentException(source + ": pre_tokenizer.pretokenizers[1]: ByteLevel after a Split must have use_regex false");
            pre = new RegexPreTokenizer(regex);
            prefix = bl.path("add_prefix_space").asBoolean(false);
        } else {
            throw new IllegalArgumentException(source + ": pre_tokenizer: expected ByteLevel or Sequence[Split, ByteLevel], got " + (ptType.isEmpty() ? pt : ptType));
        }
        JsonNode dec = root.path("decoder");
        if (!dec.isMissingNode() && !dec.isNull() && !dec.path("type").asText("").equals("ByteLevel")) {
            throw new IllegalArgumentException(source + ": decoder: expected ByteLevel, got " + dec.path("type"));
        }
        return new ByteLevelBpe(vocab, merges, added, pre, prefix, nfc, model.path("ignore_merges").asBoolean(false));
    }
}
