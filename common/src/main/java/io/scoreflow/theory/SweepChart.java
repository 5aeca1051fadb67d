package io.scoreflow.theory;

import io.scoreflow.InvalidInputException;
import io.scoreflow.eval.CurvesChart;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Renders a {@link W2Sweep} as a log–log PNG chart, one series per SDE with its fitted slope. */
public final class SweepChart {

  private static final Marker[] MARKERS = {
    SeriesMarkers.CIRCLE, SeriesMarkers.SQUARE, SeriesMarkers.DIAMOND, SeriesMarkers.TRIANGLE_UP
  };

  private SweepChart() {}

  /**
   * Writes the chart to {@code png} (through a temporary file, so a failure leaves no half PNG).
   */
  public static void write(List<W2Sweep.Curve> curves, GaussianLaw data, Path png) {
    XYChart chart =
        new XYChartBuilder()
            .width(1100)
            .height(700)
            .title(
                String.format(
                    Locale.ROOT,
                    "Euler–Maruyama, exact score: W2 to N(%s, %s² I) in d = %d",
                    trim(data.mean()),
                    trim(data.std()),
                    data.dim()))
            .xAxisTitle("steps K")
            .yAxisTitle("W2 (exact, Gaussian recursion)")
            .build();
    XYStyler styler = chart.getStyler();
    styler.setXAxisLogarithmic(true);
    styler.setYAxisLogarithmic(true);
    styler.setLegendPosition(Styler.LegendPosition.OutsideE);
    styler.setChartBackgroundColor(Color.WHITE);
    styler.setLegendBackgroundColor(Color.WHITE);
    styler.setPlotGridLinesVisible(true);
    styler.setMarkerSize(6);
    for (int i = 0; i < curves.size(); i++) {
      W2Sweep.Curve curve = curves.get(i);
      double[] x = curve.points().stream().mapToDouble(W2Sweep.Point::steps).toArray();
      double[] y = curve.points().stream().mapToDouble(W2Sweep.Point::w2).toArray();
      for (double v : y) {
        if (!(v > 0) || !Double.isFinite(v)) {
          throw new InvalidInputException(
              curve.label() + " has W2 = " + v + ", which a log axis cannot show");
        }
      }
      String name = String.format(Locale.ROOT, "%s   slope %.2f", curve.label(), curve.slope());
      XYSeries series = chart.addSeries(name, x, y);
      series.setLineColor(CurvesChart.PALETTE.get(i % CurvesChart.PALETTE.size()));
      series.setMarkerColor(CurvesChart.PALETTE.get(i % CurvesChart.PALETTE.size()));
      series.setMarker(MARKERS[(i / CurvesChart.PALETTE.size() + i) % MARKERS.length]);
      series.setLineWidth(2f);
    }
    try {
      CurvesChart.savePng(List.of(chart), 1, 1, png);
    } catch (IOException e) {
      throw new InvalidInputException("cannot write plot " + png + ": " + e.getMessage(), e);
    }
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
