package io.scoreflow.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The solver on ODEs with known solutions, against scipy's solve_ivp(RK45) as recorded by {@code
 * tools/reference/rk45_scipy.py} in {@code reference/rk45_scipy.json}: the same number of
 * evaluations and accepted steps (same controller, same first step) and the same end state up to
 * rounding, and the analytic solution to within the tolerance.
 */
class DormandPrinceTest {

  private record Case(String name, double t0, double t1, double[] y0) {}

  private static Case problem(String name) {
    return switch (name) {
      case "exp_sin" -> new Case(name, 0, 3, new double[] {1});
      case "rotation_backward" -> new Case(name, 2, 0.1, new double[] {1, -0.5});
      case "decay3" -> new Case(name, 0, 1, new double[] {1, 2, -3});
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static NDArray rhs(String name, double t, NDArray y) {
    return switch (name) {
      case "exp_sin" -> y.mul(Math.cos(t));
      case "rotation_backward" -> {
        // [-y0 + 2 y1, -2 y0 - y1]
        NDArray a = y.get("0:1");
        NDArray b = y.get("1:2");
        yield a.mul(-1).addi(b.mul(2)).concat(a.mul(-2).subi(b));
      }
      case "decay3" -> y.mul(y.getManager().create(new double[] {1, 10, 30})).muli(-(1 + t));
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static double[] exact(Case c) {
    return switch (c.name()) {
      case "exp_sin" -> new double[] {Math.exp(Math.sin(c.t1()))};
      case "rotation_backward" -> {
        double tau = c.t1() - c.t0();
        double e = Math.exp(-tau);
        double cos = Math.cos(2 * tau);
        double sin = Math.sin(2 * tau);
        double[] y = c.y0();
        yield new double[] {e * (cos * y[0] + sin * y[1]), e * (cos * y[1] - sin * y[0])};
      }
      case "decay3" -> {
        double[] k = {1, 10, 30};
        double[] out = new double[3];
        for (int i = 0; i < 3; i++) {
          out[i] = c.y0()[i] * Math.exp(-k[i] * (c.t1() + c.t1() * c.t1() / 2));
        }
        yield out;
      }
      default -> throw new IllegalArgumentException(c.name());
    };
  }

  private static List<JsonNode> reference() throws IOException {
    try (InputStream in =
        DormandPrinceTest.class.getResourceAsStream("/reference/rk45_scipy.json")) {
      List<JsonNode> out = new ArrayList<>();
      new ObjectMapper().readTree(in).get("cases").forEach(out::add);
      return out;
    }
  }

  @Test
  void matchesScipyStepForStepAndTheExactSolution() throws IOException {
    List<JsonNode> cases = reference();
    assertEquals(9, cases.size());
    for (JsonNode ref : cases) {
      Case c = problem(ref.get("case").asText());
      double tol = ref.get("rtol").asDouble();
      try (NDManager manager = NDManager.newBaseManager()) {
        DormandPrince.Solution s =
            DormandPrince.solve(
                (t, y) -> rhs(c.name(), t, y),
                c.t0(),
                manager.create(c.y0()),
                c.t1(),
                DormandPrince.Options.of(tol, ref.get("atol").asDouble()),
                manager,
                t -> {});
        String what = c.name() + " tol=" + tol;
        assertEquals(ref.get("nfev").asInt(), s.evaluations(), what + " nfev");
        assertEquals(ref.get("accepted").asInt(), s.accepted(), what + " accepted steps");
        double[] y = s.y().toDoubleArray();
        double[] exact = exact(c);
        for (int i = 0; i < y.length; i++) {
          double scipy = ref.get("y_end").get(i).asDouble();
          // Same arithmetic up to the order of additions: rounding-level differences only.
          assertEquals(scipy, y[i], 1e-12 * (1 + Math.abs(scipy)), what + " vs scipy [" + i + "]");
          // The global error of a tolerance-controlled run: a few tolerances, here below 20.
          assertEquals(exact[i], y[i], 20 * tol * (1 + Math.abs(exact[i])), what + " [" + i + "]");
        }
      }
    }
  }

  @Test
  void freesEveryIntermediateArray() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray y0 = manager.create(new double[] {1});
      int before = manager.getManagedArrays().size();
      DormandPrince.Solution s =
          DormandPrince.solve(
              (t, y) -> y.mul(Math.cos(t)),
              0,
              y0,
              3,
              DormandPrince.Options.of(1e-7, 1e-7),
              manager,
              t -> {});
      // y0 and the solution, nothing else.
      assertEquals(before + 1, manager.getManagedArrays().size());
      assertTrue(s.evaluations() > 50);
      assertEquals(1, y0.getDouble(), 0.0);
    }
  }

  @Test
  void theEvaluationCapIsOneClearError() {
    try (NDManager manager = NDManager.newBaseManager()) {
      InvalidInputException e =
          assertThrows(
              InvalidInputException.class,
              () ->
                  DormandPrince.solve(
                      (t, y) -> y.mul(Math.cos(t)),
                      0,
                      manager.create(new double[] {1}),
                      3,
                      new DormandPrince.Options(1e-9, 1e-9, 40),
                      manager,
                      t -> {}));
      assertTrue(e.getMessage().contains("cap of 40 evaluations"), e.getMessage());
    }
  }
}
