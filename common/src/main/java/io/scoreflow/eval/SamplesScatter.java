package io.scoreflow.eval;

import com.typesafe.config.Config;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Vector samples as a picture, the counterpart of an image grid for data that are not images: the
 * samples' first two coordinates as points, over the circles that hold 39% and 86% of the data's
 * law in that plane (one and two standard deviations) when the data are Gaussian. A sampler that is
 * off shows as a cloud that is shifted, too wide or too narrow against the circles.
 */
public final class SamplesScatter {

  private static final int CIRCLE_POINTS = 181;

  private SamplesScatter() {}

  /**
   * Writes the picture of {@code count} samples of {@code dim} coordinates (row-major) of a run
   * whose config is {@code config} to {@code png}.
   */
  public static void write(
      float[] samples, int count, int dim, Config config, String title, Path png)
      throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(600)
            .height(600)
            .title(title)
            .xAxisTitle("x[0]")
            .yAxisTitle(dim > 1 ? "x[1]" : "sample index")
            .build();
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setPlotBackgroundColor(Color.WHITE);
    chart.getStyler().setMarkerSize(4);
    List<Double> x = new ArrayList<>(count);
    List<Double> y = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      x.add((double) samples[i * dim]);
      y.add(dim > 1 ? samples[i * dim + 1] : (double) i);
    }
    XYSeries points = chart.addSeries(String.format(Locale.ROOT, "%d samples", count), x, y);
    points.setMarker(SeriesMarkers.CIRCLE);
    points.setMarkerColor(CurvesChart.PALETTE.get(0));
    if (dim > 1 && config.getString("scoreflow.data.source").equals("gaussian")) {
      Config g = config.getConfig("scoreflow.data.gaussian");
      double mean = g.getDouble("mean");
      double std = g.getDouble("std");
      for (int k = 1; k <= 2; k++) {
        List<Double> cx = new ArrayList<>();
        List<Double> cy = new ArrayList<>();
        for (int i = 0; i < CIRCLE_POINTS; i++) {
          double a = 2 * Math.PI * i / (CIRCLE_POINTS - 1);
          cx.add(mean + k * std * Math.cos(a));
          cy.add(mean + k * std * Math.sin(a));
        }
        XYSeries circle =
            chart.addSeries(String.format(Locale.ROOT, "data law, %d std", k), cx, cy);
        circle.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        circle.setMarker(SeriesMarkers.NONE);
        circle.setLineColor(k == 1 ? CurvesChart.PALETTE.get(3) : CurvesChart.PALETTE.get(1));
      }
    }
    CurvesChart.savePng(List.of(chart), 1, 1, png);
  }
}
