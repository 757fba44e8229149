package io.workerpools.reliability;

import java.time.Duration;

/**
 * How big a soak run is. Two profiles: {@link #quick} (the default test run: light, under a minute
 * of load) and {@link #longRun} (the 10,000 steps over a few minutes). System properties
 * override either:
 *
 * <ul>
 *   <li>{@code workerpools.soak}: {@code quick} (default) or {@code long};
 *   <li>{@code workerpools.soak.seed}: the seed of the step mix and the fault choices (default: a
 *       fresh one, printed, so that a failing run can be repeated);
 *   <li>{@code workerpools.soak.steps}, {@code workerpools.soak.seconds}: the step budget and the
 *       load phase's time bound (whichever is reached first ends the load phase).
 * </ul>
 *
 * @param mode the profile's name
 * @param seed the seed
 * @param steps how many steps to dispatch at most
 * @param loadTime the longest the load phase lasts
 * @param listeningAgents listening agent processes (pool alpha; the last is also in gamma)
 * @param pollingAgents polling agent processes (pool beta; the last is also in gamma)
 * @param workerCap each agent worker's max concurrent steps
 * @param maxInFlight steps dispatched and not yet ended, at most
 * @param meanFaultGap mean time between two injected faults
 * @param waitForWorker how long a step waits for an eligible worker
 * @param drainTime the longest the run waits, after the load phase, for every step to end
 * @param faults whether faults are injected ({@code -Dworkerpools.soak.faults=false}: a baseline)
 */
record SoakConfig(
    String mode,
    long seed,
    int steps,
    Duration loadTime,
    int listeningAgents,
    int pollingAgents,
    int workerCap,
    int maxInFlight,
    Duration meanFaultGap,
    Duration waitForWorker,
    Duration drainTime,
    boolean faults) {

  static final String PROPERTY = "workerpools.soak";

  /** The default test run: about 1,500 steps, 4 agents, under a minute of load. */
  static SoakConfig quick(long seed) {
    return new SoakConfig(
        "quick",
        seed,
        1500,
        Duration.ofSeconds(45),
        2,
        2,
        4,
        48,
        Duration.ofMillis(350),
        Duration.ofSeconds(30),
        Duration.ofSeconds(90),
        true);
  }

  /** The nightly run: 10,000 steps, 6 agents; the load phase is bounded at 15 minutes. */
  static SoakConfig longRun(long seed) {
    return new SoakConfig(
        "long",
        seed,
        10_000,
        Duration.ofMinutes(15),
        3,
        3,
        4,
        64,
        Duration.ofMillis(300),
        Duration.ofSeconds(30),
        Duration.ofSeconds(120),
        true);
  }

  /** The profile the system properties ask for. */
  static SoakConfig fromSystemProperties() {
    String mode = System.getProperty(PROPERTY, "quick").trim();
    String seedText = System.getProperty(PROPERTY + ".seed", "").trim();
    long seed = seedText.isEmpty() ? System.nanoTime() : Long.parseLong(seedText);
    SoakConfig c;
    switch (mode) {
      case "long":
        c = longRun(seed);
        break;
      case "quick":
      case "":
        c = quick(seed);
        break;
      default:
        throw new IllegalArgumentException(
            "-D" + PROPERTY + "=" + mode + " is not a soak profile; use quick or long");
    }
    String steps = System.getProperty(PROPERTY + ".steps", "").trim();
    String seconds = System.getProperty(PROPERTY + ".seconds", "").trim();
    if (!steps.isEmpty()) {
      c = c.withSteps(Integer.parseInt(steps));
    }
    if (!seconds.isEmpty()) {
      c = c.withLoadTime(Duration.ofSeconds(Long.parseLong(seconds)));
    }
    if (System.getProperty(PROPERTY + ".faults", "true").trim().equals("false")) {
      c = c.withoutFaults();
    }
    return c;
  }

  SoakConfig withSteps(int n) {
    return new SoakConfig(
        mode,
        seed,
        n,
        loadTime,
        listeningAgents,
        pollingAgents,
        workerCap,
        maxInFlight,
        meanFaultGap,
        waitForWorker,
        drainTime,
        faults);
  }

  SoakConfig withoutFaults() {
    return new SoakConfig(
        mode + "-no-faults",
        seed,
        steps,
        loadTime,
        listeningAgents,
        pollingAgents,
        workerCap,
        maxInFlight,
        meanFaultGap,
        waitForWorker,
        drainTime,
        false);
  }

  SoakConfig withLoadTime(Duration d) {
    return new SoakConfig(
        mode,
        seed,
        steps,
        d,
        listeningAgents,
        pollingAgents,
        workerCap,
        maxInFlight,
        meanFaultGap,
        waitForWorker,
        drainTime,
        faults);
  }
}
