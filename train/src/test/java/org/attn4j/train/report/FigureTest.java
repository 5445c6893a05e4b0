package org.attn4j.train.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** The PNG and SVG renderings put the data where the axes say it is. */
class FigureTest {
    /** A horizontal line at y = 0.25 on a 0..1 axis, with x from 0 to 10. */
    private static Chart flat() {
        return Chart.builder().title("flat").xLabel("x").yLabel("y").yRange(0, 1)
                .line("a", new double[] {0, 10}, new double[] {0.25, 0.25}).build();
    }

    @Test
    void pngDecodesAndTheLineSitsAtItsValue() throws IOException {
        Figure f = new Figure(List.of(flat()), 400, 300);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        f.writePng(out);
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(out.toByteArray()));
        assertNotNull(img);
        assertEquals(400, img.getWidth());
        assertEquals(300, img.getHeight());
        // plot area: y from top 28 to bottom 300 - 44 = 256; 0.25 of the way up from the bottom
        double expectedY = 256 - 0.25 * (256 - 28);
        // the line is antialiased: weight each row of the middle column by how blue it is (white and grey weigh 0)
        double weight = 0, sumY = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            int rgb = img.getRGB(200, y), blueness = Math.max(0, (rgb & 0xFF) - (rgb >> 16 & 0xFF));
            weight += blueness;
            sumY += blueness * y;
        }
        assertTrue(weight > 100, "the line crosses the middle column");
        assertEquals(expectedY, sumY / weight, 1.0);
    }

    @Test
    void svgHasTheSameGeometryAndEscapesText() {
        Chart c = Chart.builder().title("a < b & \"c\"").yRange(0, 1).line("a", new double[] {0, 10}, new double[] {0.25, 0.25}).build();
        String svg = new Figure(List.of(c), 400, 300).svg();
        assertTrue(svg.startsWith("<svg") && svg.endsWith("</svg>"), svg);
        assertTrue(svg.contains("a &lt; b &amp; &quot;c&quot;"), svg);
        assertFalse(svg.contains("a < b"), "raw markup in text");
        Matcher m = Pattern.compile("<polyline[^>]*points=\"([^\"]*)\"").matcher(svg);
        assertTrue(m.find(), svg);
        String[] pts = m.group(1).trim().split(" ");
        assertEquals(2, pts.length);
        double y = 256 - 0.25 * (256 - 28);
        for (String p : pts) assertEquals(y, Double.parseDouble(p.split(",")[1]), 0.06);
        assertEquals(64, Double.parseDouble(pts[0].split(",")[0]), 0.06, "x = 0 at the left edge of the plot area");
        assertEquals(400 - 16, Double.parseDouble(pts[1].split(",")[0]), 0.06, "x = 10 at the right edge");
    }

    @Test
    void nanBreaksTheLineAndLogAxisSpacesPowersOfTwoEvenly() {
        Chart c = Chart.builder().logX(true).yRange(0, 1).xTicks(64, 128, 256)
                .line("a", new double[] {64, 128, 256, 512}, new double[] {0.5, Double.NaN, 0.5, 0.5}).build();
        String svg = new Figure(List.of(c), 400, 300).svg();
        Matcher m = Pattern.compile("<polyline[^>]*points=\"([^\"]*)\"").matcher(svg);
        assertTrue(m.find());
        assertEquals(2, m.group(1).trim().split(" ").length, "only 256 and 512 are joined: the NaN broke the line");
        assertFalse(m.find(), "a single point draws no line");
        Chart.Axis axis = new Chart.Axis(64, 512, 0, 300, true);
        assertEquals(axis.map(128) - axis.map(64), axis.map(256) - axis.map(128), 1e-9);
        assertEquals(List.of(64.0, 128.0, 256.0, 512.0), java.util.Arrays.stream(axis.ticks()).boxed().toList());
    }

    @Test
    void niceLinearTicks() {
        Chart.Axis a = new Chart.Axis(0, 1, 0, 100, false);
        assertEquals(List.of(0.0, 0.2, 0.4, 0.6, 0.8, 1.0), java.util.Arrays.stream(a.ticks()).boxed().toList());
        assertEquals("0.2", Chart.format(0.2));
        assertEquals("1500", Chart.format(1500));
    }

    @Test
    void badInputIsRefusedWithTheArgumentNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Chart.builder().logX(true).line("a", new double[] {0}, new double[] {1}).build());
        assertTrue(e.getMessage().startsWith("x:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Chart.Series("a", new double[2], new double[3], null, false));
        assertTrue(e.getMessage().startsWith("y:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Figure(List.of(), 400, 300));
        assertTrue(e.getMessage().startsWith("charts:"), e.getMessage());
    }
}
