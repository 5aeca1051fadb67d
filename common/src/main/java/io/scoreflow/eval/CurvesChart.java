package io.scoreflow.eval;

import io.scoreflow.files.AtomicFiles;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Runs' {@link RunCurves} as one PNG: the loss and the metric against step, side by side. */
public final class CurvesChart {

  /**
   * Ten dark, mutually distinct colours (Tableau 10), readable on white and in print; every chart
   * of the project draws its series in this order.
   */
  public static final List<Color> PALETTE =
      List.of(
          new Color(31, 119, 180),
          new Color(255, 127, 14),
          new Color(44, 160, 44),
          new Color(214, 39, 40),
          new Color(148, 103, 189),
          new Color(140, 86, 75),
          new Color(227, 119, 194),
          new Color(127, 127, 127),
          new Color(188, 189, 34),
          new Color(23, 190, 207));

  private CurvesChart() {}

  /** One line of each panel: a run's loss and its metric against step. */
  public record Line(
      String label,
      List<Long> evalSteps,
      List<Double> metric,
      List<Long> lossSteps,
      List<Double> loss) {}

  /** The loss and {@code metric} panels of {@code lines}, as one PNG. */
  public static void write(String metric, List<Line> lines, String title, Path png)
      throws IOException {
    XYChart loss = chart(title + ": training loss (rank 0)", "loss", false);
    XYChart metricChart =
        chart(title + ": " + metric + " of EMA samples, at equal steps", metric, true);
    int i = 0;
    for (Line c : lines) {
      Color color = PALETTE.get(i % PALETTE.size());
      // Once the palette's colours are used up, dashes and squares tell the lines apart.
      boolean second = i++ >= PALETTE.size();
      XYSeries l = loss.addSeries(c.label(), c.lossSteps(), smooth(c.loss(), 9));
      l.setLineColor(color);
      l.setMarker(SeriesMarkers.NONE);
      XYSeries m = metricChart.addSeries(c.label(), c.evalSteps(), c.metric());
      m.setLineColor(color);
      m.setMarkerColor(color);
      m.setMarker(second ? SeriesMarkers.SQUARE : SeriesMarkers.CIRCLE);
      if (second) {
        l.setLineStyle(org.knowm.xchart.style.lines.SeriesLines.DASH_DASH);
        m.setLineStyle(org.knowm.xchart.style.lines.SeriesLines.DASH_DASH);
      }
    }
    savePng(List.of(loss, metricChart), 1, 2, png);
  }

  /**
   * Writes {@code charts} as one PNG of {@code rows} × {@code columns} panels, through a temporary
   * file beside {@code png}, so that a failure leaves no half picture; every chart of the project
   * is written this way.
   */
  public static void savePng(List<XYChart> charts, int rows, int columns, Path png)
      throws IOException {
    AtomicFiles.write(
        png,
        tmp -> {
          // The encoder appends ".png" to the name it is given.
          Path named = Path.of(tmp + ".png");
          try {
            BitmapEncoder.saveBitmap(
                charts, rows, columns, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
            Files.move(named, tmp, StandardCopyOption.REPLACE_EXISTING);
          } finally {
            Files.deleteIfExists(named);
          }
        });
  }

  private static XYChart chart(String title, String y, boolean log) {
    XYChart c =
        new XYChartBuilder()
            .width(800)
            .height(600)
            .title(title)
            .xAxisTitle("step")
            .yAxisTitle(y)
            .build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    c.getStyler().setYAxisLogarithmic(log);
    c.getStyler().setChartBackgroundColor(Color.WHITE);
    c.getStyler().setPlotBackgroundColor(Color.WHITE);
    return c;
  }

  /** A centred moving average over {@code width} points (the loss of one batch is noisy). */
  static List<Double> smooth(List<Double> values, int width) {
    double[] out = new double[values.size()];
    for (int i = 0; i < out.length; i++) {
      int from = Math.max(0, i - width / 2);
      int to = Math.min(out.length, i + width / 2 + 1);
      double sum = 0;
      for (int j = from; j < to; j++) {
        sum += values.get(j);
      }
      out[i] = sum / (to - from);
    }
    return java.util.Arrays.stream(out).boxed().toList();
  }
}
