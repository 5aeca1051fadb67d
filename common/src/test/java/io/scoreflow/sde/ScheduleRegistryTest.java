package io.scoreflow.sde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The registry is consistent with itself and with the reference.conf that mirrors it. */
class ScheduleRegistryTest {

  @Test
  void namesAreUniqueAndLookedUpByName() {
    Set<String> ids = new TreeSet<>();
    for (Schedule s : Schedule.values()) {
      assertTrue(ids.add(s.id()), "duplicate name " + s.id());
      assertTrue(s.id().matches("[a-z][a-z0-9]*(-[a-z0-9]+)*"), s.id());
      assertEquals(s, Schedule.byId(s.id()));
    }
  }

  /** One key is one flag and one config key: it must mean the same in every schedule. */
  @Test
  void aKeySharedBySchedulesHasOneKindAndOneMeaning() {
    Map<String, Parameter> first = new HashMap<>();
    for (Schedule s : Schedule.values()) {
      for (Parameter p : concat(s)) {
        Parameter seen = first.putIfAbsent(p.key(), p);
        if (seen != null) {
          assertEquals(seen.getClass(), p.getClass(), s.id() + " --" + p.key());
          assertEquals(seen.meaning(), p.meaning(), s.id() + " --" + p.key());
        }
      }
    }
  }

  /** A bound may only name a parameter of the same schedule declared before it. */
  @ParameterizedTest
  @EnumSource(Schedule.class)
  void boundsNameEarlierParameters(Schedule schedule) {
    var keys = schedule.parameterKeys();
    for (int i = 0; i < keys.size(); i++) {
      Parameter.Bound b = schedule.numbers().get(i).bound();
      String other =
          b instanceof Parameter.Bound.AtLeast a
              ? a.other()
              : b instanceof Parameter.Bound.Above a ? a.other() : null;
      if (other != null) {
        assertTrue(keys.subList(0, i).contains(other), schedule.id() + " --" + keys.get(i));
      }
    }
  }

  /**
   * reference.conf lists the defaults for users and for the config-key check of the deploy assets;
   * where it has a schedule's block, the block must be exactly the registry's parameters and
   * defaults.
   */
  @ParameterizedTest
  @EnumSource(Schedule.class)
  void referenceConfMirrorsTheDefaults(Schedule schedule) {
    Config sde = ConfigFactory.defaultReference().getConfig("scoreflow.sde");
    String path = "\"" + schedule.id() + "\"";
    if (!sde.hasPath(path)) {
      return;
    }
    Config block = sde.getConfig(path);
    Map<String, Double> expected = new LinkedHashMap<>();
    schedule.numbers().forEach(p -> expected.put(p.key(), p.defaultValue()));
    Map<String, Double> actual = new LinkedHashMap<>();
    block.root().keySet().forEach(k -> actual.put(k, block.getDouble("\"" + k + "\"")));
    assertEquals(expected, actual, "scoreflow.sde." + schedule.id() + " in reference.conf");
  }

  @Test
  void onlyTheGenericScheduleLacksATableRow() {
    for (Schedule s : Schedule.values()) {
      assertEquals(s.family() != Schedule.Family.GENERIC, s.complexityRow().isPresent(), s.id());
    }
  }

  private static List<Parameter> concat(Schedule s) {
    List<Parameter> all = new ArrayList<>(s.numbers());
    all.addAll(s.expressions());
    return all;
  }
}
