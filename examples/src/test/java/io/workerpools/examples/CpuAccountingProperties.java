package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.statistics.Statistics;

/** The two parsers the scaling-up example's CPU figures rest on. */
class CpuAccountingProperties {

  @Provide
  Arbitrary<String> commandNames() {
    // What a process may call itself (up to 15 bytes in the kernel): spaces and parentheses too.
    return Arbitraries.strings().withChars("ab )(:0-9").ofMinLength(1).ofMaxLength(15);
  }

  @Property
  void theStatLineGivesTheFourTimesWhateverTheCommandNameHolds(
      @ForAll("commandNames") String comm,
      @ForAll @LongRange(max = 1L << 40) long utime,
      @ForAll @LongRange(max = 1L << 40) long stime,
      @ForAll @LongRange(max = 1L << 40) long cutime,
      @ForAll @LongRange(max = 1L << 40) long cstime) {
    Statistics.label("name has ')' or ' '").collect(comm.contains(")") || comm.contains(" "));
    Statistics.label("name has ')' or ' '").coverage(c -> c.check(true).count(n -> n > 10));
    String stat =
        "4242 ("
            + comm
            + ") S 1 4242 4242 0 -1 4194560 120 0 0 0 "
            + utime
            + " "
            + stime
            + " "
            + cutime
            + " "
            + cstime
            + " 20 0 1 0 99 1000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
    assertThat(ProcessCpu.ticksOf(stat)).isEqualTo(utime + stime + cutime + cstime);
  }

  @Property
  void aTimesLineIsItsUserPlusSystemTimeInMilliseconds(
      @ForAll @IntRange(max = 9999) int um,
      @ForAll @IntRange(max = 59) int us,
      @ForAll @IntRange(max = 999) int ums,
      @ForAll @IntRange(max = 9999) int sm,
      @ForAll @IntRange(max = 59) int ss,
      @ForAll @IntRange(max = 999) int sms) {
    String line = String.format("%dm%d.%03ds %dm%d.%03ds", um, us, ums, sm, ss, sms);
    assertThat(BashTimes.millis(line))
        .isEqualTo(um * 60_000L + us * 1000L + ums + sm * 60_000L + ss * 1000L + sms);
  }

  @Property
  void aLineThatIsNotATimesLineCountsNothing(@ForAll String line) {
    Statistics.label("looks like times").collect(line.matches(".*\\dm\\d.*s.*"));
    assertThat(BashTimes.millis("ancestors " + line)).isZero();
  }
}
