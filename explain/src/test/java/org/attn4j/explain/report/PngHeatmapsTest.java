package org.attn4j.explain.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngHeatmapsTest {
    @TempDir Path dir;

    @Test
    void weightsMapToShadesAndTheGridHasOneCellPerHead() throws Exception {
        // 2 layers × 3 heads of 4 tokens: head (1, 2) attends fully to key 3, the others uniformly
        double[][][][] probs = new double[2][3][4][4];
        for (double[][][] layer : probs) for (double[][] head : layer) for (double[] row : head) java.util.Arrays.fill(row, 0.25);
        for (double[] row : probs[1][2]) { java.util.Arrays.fill(row, 0); row[3] = 1; }
        BufferedImage grid = PngHeatmaps.grid(probs);
        // cell (layer 1, head 2) starts at x = 40 + 2·80, y = 24 + 80; key 3 is its last 18 px column
        Color dark = new Color(grid.getRGB(40 + 160 + 64, 24 + 80 + 10));
        Color light = new Color(grid.getRGB(40 + 160 + 10, 24 + 80 + 10));
        Color uniform = new Color(grid.getRGB(40 + 10, 24 + 10));
        assertEquals(PngHeatmaps.colour(1), dark);
        assertEquals(PngHeatmaps.colour(0), light);
        assertEquals(PngHeatmaps.colour(0.25), uniform);
        assertEquals(40 + 3 * 80, grid.getWidth());
        assertEquals(24 + 2 * 80, grid.getHeight());

        BufferedImage head = PngHeatmaps.head(probs[1][2], List.of("[CLS]", "a", "b", "[SEP]"), "layer 1, head 2");
        ImageIO.write(head, "png", dir.resolve("h.png").toFile());
        BufferedImage back = ImageIO.read(dir.resolve("h.png").toFile());
        assertEquals(head.getWidth(), back.getWidth());
        // the bottom-right cell (query 3, key 3) is the darkest colour
        assertEquals(PngHeatmaps.colour(1).getRGB(), back.getRGB(back.getWidth() - 8 - 9, back.getHeight() - 8 - 9));
        assertTrue(back.getWidth() > 4 * 18);
    }
}
