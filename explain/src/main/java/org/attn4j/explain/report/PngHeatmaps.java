package org.attn4j.explain.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import javax.imageio.ImageIO;
import org.attn4j.explain.capture.CapturedAttention;

/**
 * PNG heatmaps of attention: one image per head with the tokens on both axes (queries down, keys
 * across), and one grid of all layers × heads. Weight 0 is white, 1 is dark blue; the scale is
 * linear. Rendered with Java2D, headless.
 */
public final class PngHeatmaps {
    private static final int CELL = 18, GRID_CELL = 72, PAD = 8;
    private static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

    private PngHeatmaps() {}

    /** The colour of an attention weight in [0, 1]. */
    static Color colour(double w) {
        double t = Math.max(0, Math.min(1, w));
        int r = (int) Math.round(255 - t * (255 - 8)), g = (int) Math.round(255 - t * (255 - 48)), b = (int) Math.round(255 - t * (255 - 107));
        return new Color(r, g, b);
    }

    /** One head: {@code a[query][key]} with token labels; title above. */
    public static BufferedImage head(double[][] a, List<String> tokens, String title) {
        int n = a.length;
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        pg.setFont(FONT);
        FontMetrics fm = pg.getFontMetrics();
        int label = 0;
        for (String t : tokens) label = Math.max(label, fm.stringWidth(t));
        pg.dispose();
        int top = PAD + fm.getHeight() + PAD + label + PAD, left = PAD + label + PAD;
        int w = left + n * CELL + PAD, h = top + n * CELL + PAD;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = blank(img);
        g.setColor(Color.BLACK);
        g.drawString(title, PAD, PAD + fm.getAscent());
        for (int i = 0; i < n; i++) {
            g.setColor(Color.DARK_GRAY);
            String t = tokens.get(i);
            g.drawString(t, left - PAD - fm.stringWidth(t), top + i * CELL + (CELL + fm.getAscent()) / 2 - 2);
            AffineTransform saved = g.getTransform();
            g.translate(left + i * CELL + (CELL + fm.getAscent()) / 2 - 2, top - PAD);
            g.rotate(-Math.PI / 2);
            g.drawString(t, 0, 0);
            g.setTransform(saved);
            for (int j = 0; j < n; j++) {
                g.setColor(colour(a[i][j]));
                g.fillRect(left + j * CELL, top + i * CELL, CELL, CELL);
            }
        }
        g.setColor(Color.LIGHT_GRAY);
        g.setStroke(new BasicStroke(1));
        g.drawRect(left, top, n * CELL, n * CELL);
        g.dispose();
        return img;
    }

    /** All heads: a layers × heads grid of small heatmaps, labelled L0.. and H0... */
    public static BufferedImage grid(double[][][][] probs) {
        int layers = probs.length, heads = probs[0].length, n = probs[0][0].length;
        int left = 40, top = 24;
        int w = left + heads * (GRID_CELL + PAD), h = top + layers * (GRID_CELL + PAD);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = blank(img);
        double px = (double) GRID_CELL / n;
        for (int hh = 0; hh < heads; hh++) {
            g.setColor(Color.DARK_GRAY);
            g.drawString("H" + hh, left + hh * (GRID_CELL + PAD) + GRID_CELL / 2 - 8, top - 8);
        }
        for (int l = 0; l < layers; l++) {
            g.setColor(Color.DARK_GRAY);
            g.drawString("L" + l, 8, top + l * (GRID_CELL + PAD) + GRID_CELL / 2 + 4);
            for (int hh = 0; hh < heads; hh++) {
                int x0 = left + hh * (GRID_CELL + PAD), y0 = top + l * (GRID_CELL + PAD);
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        g.setColor(colour(probs[l][hh][i][j]));
                        int x = x0 + (int) Math.floor(j * px), y = y0 + (int) Math.floor(i * px);
                        g.fillRect(x, y, Math.max(1, (int) Math.ceil(px)), Math.max(1, (int) Math.ceil(px)));
                    }
                }
                g.setColor(Color.LIGHT_GRAY);
                g.drawRect(x0, y0, GRID_CELL, GRID_CELL);
            }
        }
        g.dispose();
        return img;
    }

    /** A graphics context on {@code img}, painted white, with antialiased text in the labels' font. */
    private static Graphics2D blank(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setFont(FONT);
        return g;
    }

    /** Writes {@code grid.png} and {@code layerL_headH.png} for every head into {@code dir} (created if needed). */
    public static void write(CapturedAttention c, Path dir) throws IOException {
        Files.createDirectories(dir);
        save(grid(c.probs()), dir.resolve("grid.png"));
        List<String> tokens = c.prettyTokens();
        for (int l = 0; l < c.layers(); l++) {
            for (int h = 0; h < c.heads(); h++) {
                save(head(c.probs()[l][h], tokens, "layer " + l + ", head " + h), dir.resolve("layer" + l + "_head" + h + ".png"));
            }
        }
    }

    private static void save(BufferedImage img, Path target) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        try {
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer available");
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
