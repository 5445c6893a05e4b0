package org.attn4j.spark.embed;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapred.TextInputFormat;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Corpus inputs as {@code Dataset<Row>}s that {@link CorpusEmbedding#embed} takes. */
public final class CorpusReaders {
    private CorpusReaders() {}

    /** Input formats: one text per line, JSON lines, Parquet. */
    public enum Format { TEXT, JSONL, PARQUET;
        /** From a name (text, jsonl, parquet), or from the path's extension when {@code name} is null. */
        public static Format of(String name, String path) {
            if (name != null) {
                return switch (name.toLowerCase(Locale.ROOT)) {
                    case "text", "txt" -> TEXT;
                    case "jsonl", "json" -> JSONL;
                    case "parquet" -> PARQUET;
                    default -> throw new IllegalArgumentException("input format: expected text, jsonl or parquet, got '" + name + "'");
                };
            }
            String p = path.toLowerCase(Locale.ROOT).replaceAll("/+$", "");
            if (p.endsWith(".parquet")) return PARQUET;
            if (p.endsWith(".jsonl") || p.endsWith(".json") || p.endsWith(".ndjson")) return JSONL;
            return TEXT;
        }
    }

    /** Reads {@code path} in {@code format}; {@code minPartitions} (≥ 1) applies to text input. */
    public static Dataset<Row> read(SparkSession spark, String path, Format format, int minPartitions) {
        return switch (format) {
            case TEXT -> text(spark, path, minPartitions);
            case JSONL -> jsonl(spark, path);
            case PARQUET -> spark.read().parquet(path);
        };
    }

    /** Columns of {@link #text}: id (line number from 0), text (null where the line is not UTF-8), error. */
    public static final StructType TEXT_SCHEMA = new StructType()
            .add(CorpusEmbedding.ID, DataTypes.LongType, false)
            .add(CorpusEmbedding.TEXT, DataTypes.StringType, true)
            .add(CorpusEmbedding.ERROR, DataTypes.StringType, true);

    /**
     * One row per line of a UTF-8 text file: id = line number from 0 (across the file's splits, in
     * order), text without its line end. A line that is not valid UTF-8 gets a null text and an error
     * naming its line; Spark's own text source would replace the bad bytes silently.
     */
    public static Dataset<Row> text(SparkSession spark, String path, int minPartitions) {
        if (minPartitions < 1) throw new IllegalArgumentException("partitions: expected >= 1, got " + minPartitions);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // Hadoop reuses its Text objects: copy each line's bytes before anything keeps them.
        JavaRDD<byte[]> lines = sc.hadoopFile(path, TextInputFormat.class, LongWritable.class, Text.class, minPartitions)
                .map(kv -> kv._2().copyBytes());
        JavaRDD<Row> rows = lines.zipWithIndex().map(t -> {
            CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
            try {
                return RowFactory.create(t._2(), utf8.decode(ByteBuffer.wrap(t._1())).toString(), null);
            } catch (CharacterCodingException e) {
                return RowFactory.create(t._2(), null, "invalid UTF-8 on line " + t._2() + " (counted from 0)");
            }
        });
        return spark.createDataFrame(rows, TEXT_SCHEMA);
    }

    /** JSON lines; a malformed line keeps its place as a row whose {@value CorpusEmbedding#ERROR} column says so. */
    public static Dataset<Row> jsonl(SparkSession spark, String path) {
        Dataset<Row> df = spark.read().option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_corrupt_record").json(path);
        List<String> cols = Arrays.asList(df.columns());
        if (cols.contains("_corrupt_record")) {
            // Spark refuses queries over raw JSON that reference only the corrupt-record column; caching first is its documented way.
            df = df.cache();
            df = df.withColumn(CorpusEmbedding.ERROR, functions.when(functions.col("_corrupt_record").isNotNull(),
                    functions.concat(functions.lit("malformed JSON line: "), functions.substring(functions.col("_corrupt_record"), 1, 80))))
                    .drop("_corrupt_record");
        }
        return df;
    }
}
