package dev.lbrvmm.vmm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class StatisticsTest {
    @Test
    void medianOfOddAndEvenCountsLeavesTheInputAlone() {
        double[] v = {5, 1, 3};
        assertThat(Statistics.median(v)).isEqualTo(3);
        assertThat(v).containsExactly(5, 1, 3);
        assertThat(Statistics.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
        assertThatThrownBy(() -> Statistics.median(new double[0])).hasMessageContaining("no values");
    }

    @Test
    void nearestRankPercentiles() {
        double[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertThat(Statistics.percentile(sorted, 0.5)).isEqualTo(5);
        assertThat(Statistics.percentile(sorted, 0.99)).isEqualTo(10);
        assertThat(Statistics.percentile(sorted, 0)).isEqualTo(1);
        assertThat(Statistics.min(new double[] {3, -1, 2})).isEqualTo(-1);
        assertThat(Statistics.max(new double[] {3, -1, 2})).isEqualTo(3);
    }

    @Test
    void theJvmFlagsComeFromTheBuildAndForkedJvmsGetThem() {
        assertThat(JvmFlags.args()).contains("-XX:TypeProfileWidth=0", "-XX:-DontCompileHugeMethods");
        assertThat(ForkedJvm.command(StatisticsTest.class, java.util.List.of("x")))
                .containsSubsequence(ForkedJvm.javaExecutable(), "-XX:TypeProfileWidth=0", StatisticsTest.class.getName(), "x");
    }
}
