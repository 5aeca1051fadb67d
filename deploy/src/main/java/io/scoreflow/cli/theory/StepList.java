package io.scoreflow.cli.theory;

import io.scoreflow.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * A list of step counts: {@code 10,20,50,100}, or {@code 10..1000:12} for 12 log-spaced integers
 * from 10 to 1000 (duplicates after rounding dropped). Forms can be mixed: {@code 5,10..1000:8}.
 */
public final class StepList {

  private StepList() {}

  static List<Integer> parse(String text) {
    TreeSet<Integer> steps = new TreeSet<>();
    for (String part : text.split(",")) {
      String p = part.trim();
      if (p.contains("..")) {
        steps.addAll(range(p, text));
      } else {
        steps.add(positive(p, text));
      }
    }
    return new ArrayList<>(steps);
  }

  private static List<Integer> range(String p, String text) {
    String[] bounds = p.split("\\.\\.", 2);
    String[] endAndCount = bounds[1].split(":", 2);
    if (endAndCount.length != 2) {
      throw new InvalidInputException(
          "--steps range '" + p + "' needs a count: FROM..TO:COUNT, e.g. 10..1000:12");
    }
    int from = positive(bounds[0], text);
    int to = positive(endAndCount[0], text);
    int count = positive(endAndCount[1], text);
    if (to < from || count < 2) {
      throw new InvalidInputException("--steps range '" + p + "' needs FROM <= TO and COUNT >= 2");
    }
    List<Integer> out = new ArrayList<>();
    double ratio = Math.log((double) to / from);
    for (int i = 0; i < count; i++) {
      out.add((int) Math.round(from * Math.exp(ratio * i / (count - 1))));
    }
    return out;
  }

  private static int positive(String p, String text) {
    try {
      int v = Integer.parseInt(p.trim());
      if (v >= 1) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new InvalidInputException(
        "--steps '" + text + "': '" + p.trim() + "' is not a whole number >= 1");
  }
}
