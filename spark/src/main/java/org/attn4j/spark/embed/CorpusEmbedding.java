package org.attn4j.spark.embed;

import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.attn4j.models.embed.Embedder;

/**
 * Sentence embeddings as a Spark transformation, usable inside any job:
 *
 * <pre>{@code
 * Dataset<Row> out = CorpusEmbedding.embed(docs, "id", "text", EmbeddingOptions.defaults());
 * // out: id (the input's type), text string, embedding array<float>, tokens int, truncated boolean, error string
 * }</pre>
 *
 * A plain {@code mapPartitions} (no UDF): each task takes its partition in batches of
 * {@link EmbeddingOptions#batch} rows, tokenises them and runs one packed forward pass per batch with
 * the model its executor JVM loaded once ({@link ExecutorModels}). Rows whose text is null, or whose
 * input carries a non-null string column {@value #ERROR} (the readers use it for invalid UTF-8 and
 * malformed JSON), come out with a null embedding and the reason in {@value #ERROR}; they are never
 * dropped. Output rows keep the input's order within each partition.
 */
public final class CorpusEmbedding {
    public static final String ID = "id", TEXT = "text", EMBEDDING = "embedding", TOKENS = "tokens", TRUNCATED = "truncated", ERROR = "error";

    private CorpusEmbedding() {}

    /** Counters a job reads after its action (only successful task attempts count). */
    public record Counters(LongAccumulator rows, LongAccumulator errors, LongAccumulator tokens) implements Serializable {}

    /** The output schema for an id column of type {@code idType}. */
    public static StructType outputSchema(DataType idType) {
        return new StructType(new StructField[] {
            DataTypes.createStructField(ID, idType, true),
            DataTypes.createStructField(TEXT, DataTypes.StringType, true),
            DataTypes.createStructField(EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), true),
            DataTypes.createStructField(TOKENS, DataTypes.IntegerType, true),
            DataTypes.createStructField(TRUNCATED, DataTypes.BooleanType, true),
            DataTypes.createStructField(ERROR, DataTypes.StringType, true)});
    }

    /** Embeds {@code textColumn} of {@code input}, carrying {@code idColumn} along (see the class comment). */
    public static Dataset<Row> embed(Dataset<Row> input, String idColumn, String textColumn, EmbeddingOptions options) {
        return embed(input, idColumn, textColumn, options, null);
    }

    /** As {@link #embed(Dataset, String, String, EmbeddingOptions)}, counting rows, errors and tokens into {@code counters} (may be null). */
    public static Dataset<Row> embed(Dataset<Row> input, String idColumn, String textColumn, EmbeddingOptions options, Counters counters) {
        if (options == null) throw new IllegalArgumentException("options: expected embedding options, got null");
        StructType schema = input.schema();
        List<String> names = Arrays.asList(schema.fieldNames());
        if (!names.contains(idColumn)) throw new IllegalArgumentException("id column: expected one of " + names + ", got '" + idColumn + "'");
        if (!names.contains(textColumn)) throw new IllegalArgumentException("text column: expected one of " + names + ", got '" + textColumn + "'");
        DataType textType = schema.apply(textColumn).dataType();
        if (!textType.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("text column: expected '" + textColumn + "' to be a string column, got " + textType.simpleString());
        }
        int errorIndex = -1;
        if (names.contains(ERROR) && !ERROR.equals(idColumn) && !ERROR.equals(textColumn)
                && schema.apply(ERROR).dataType().equals(DataTypes.StringType)) {
            errorIndex = schema.fieldIndex(ERROR);
        }
        EmbedPartition f = new EmbedPartition(options, schema.fieldIndex(idColumn), schema.fieldIndex(textColumn), errorIndex, counters);
        return input.mapPartitions(f, Encoders.row(outputSchema(schema.apply(idColumn).dataType())));
    }

    /** The per-partition function: small and serialisable (options, column indices, counters), never the model. */
    static final class EmbedPartition implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final EmbeddingOptions options;
        private final int idIndex, textIndex, errorIndex;
        private final Counters counters;

        EmbedPartition(EmbeddingOptions options, int idIndex, int textIndex, int errorIndex, Counters counters) {
            this.options = options;
            this.idIndex = idIndex;
            this.textIndex = textIndex;
            this.errorIndex = errorIndex;
            this.counters = counters;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            Embedder model = ExecutorModels.embedder(options.model()).withThreads(options.threadsPerTask()).withBatchSize(options.batch());
            if (options.maxTokens() != null) model = model.withMaxTokens(options.maxTokens());
            return new Batches(rows, model);
        }

        /** Pulls one batch of input rows at a time, so a partition never sits in memory whole. */
        private final class Batches implements Iterator<Row> {
            private final Iterator<Row> in;
            private final Embedder model;
            private final ArrayDeque<Row> ready = new ArrayDeque<>();

            Batches(Iterator<Row> in, Embedder model) {
                this.in = in;
                this.model = model;
            }

            @Override
            public boolean hasNext() {
                if (ready.isEmpty() && in.hasNext()) fill();
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                return ready.poll();
            }

            private void fill() {
                List<Row> batch = new ArrayList<>(options.batch());
                while (batch.size() < options.batch() && in.hasNext()) batch.add(in.next());
                List<String> texts = new ArrayList<>(batch.size());
                String[] problems = new String[batch.size()];
                for (int i = 0; i < batch.size(); i++) {
                    Row r = batch.get(i);
                    if (errorIndex >= 0 && !r.isNullAt(errorIndex)) problems[i] = r.getString(errorIndex);
                    else if (r.isNullAt(textIndex)) problems[i] = "null text";
                    else texts.add(r.getString(textIndex));
                }
                Embedder.Result result = texts.isEmpty() ? null : model.run(texts);
                long tokens = 0, errors = 0;
                for (int i = 0, ok = 0; i < batch.size(); i++) {
                    Row r = batch.get(i);
                    String text = r.isNullAt(textIndex) ? null : r.getString(textIndex);
                    if (problems[i] != null) {
                        errors++;
                        ready.add(RowFactory.create(r.get(idIndex), text, null, null, null, problems[i]));
                    } else {
                        var enc = result.encodings().get(ok);
                        tokens += enc.length();
                        ready.add(RowFactory.create(r.get(idIndex), text, result.embeddings()[ok], enc.length(), enc.truncated(), null));
                        ok++;
                    }
                }
                if (counters != null) {
                    counters.rows().add(batch.size());
                    counters.errors().add(errors);
                    counters.tokens().add(tokens);
                }
            }
        }
    }
}
