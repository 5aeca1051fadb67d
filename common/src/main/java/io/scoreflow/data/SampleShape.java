package io.scoreflow.data;

import ai.djl.ndarray.types.Shape;

/**
 * The shape of one sample: an image (channels × height × width, stored channel-major) or a flat
 * vector. Every sample of a {@link Dataset} has the same shape.
 */
public sealed interface SampleShape {

  /** Floats in one sample. */
  int size();

  /** The DJL shape of {@code count} samples stacked in front: N×C×H×W or N×d. */
  Shape batchShape(long count);

  public static Image image(int channels, int height, int width) {
    return new Image(channels, height, width);
  }

  public static Vector vector(int dimension) {
    return new Vector(dimension);
  }

  /** A C×H×W image, channel-major (all of channel 0, then channel 1, …), rows top to bottom. */
  record Image(int channels, int height, int width) implements SampleShape {
    public Image {
      if (channels < 1 || height < 1 || width < 1) {
        throw new IllegalArgumentException(
            "image dimensions must be positive, got " + channels + "×" + height + "×" + width);
      }
      if ((long) channels * height * width > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "image " + channels + "×" + height + "×" + width + " is too large");
      }
    }

    @Override
    public int size() {
      return channels * height * width;
    }

    @Override
    public Shape batchShape(long count) {
      return new Shape(count, channels, height, width);
    }

    @Override
    public String toString() {
      return channels + "×" + height + "×" + width;
    }
  }

  /** A flat vector of {@code dimension} coordinates. */
  record Vector(int dimension) implements SampleShape {
    public Vector {
      if (dimension < 1) {
        throw new IllegalArgumentException("vector dimension must be positive, got " + dimension);
      }
    }

    @Override
    public int size() {
      return dimension;
    }

    @Override
    public Shape batchShape(long count) {
      return new Shape(count, dimension);
    }

    @Override
    public String toString() {
      return "d=" + dimension;
    }
  }
}
