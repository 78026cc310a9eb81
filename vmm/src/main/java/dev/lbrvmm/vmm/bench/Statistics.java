package dev.lbrvmm.vmm.bench;

import java.util.Arrays;

/** The order statistics the bench commands report: medians (the machines are noisy), percentiles, ranges. */
public final class Statistics {
    private Statistics() {}

    /** The median (the mean of the middle two for an even count); v is not changed. */
    public static double median(double[] v) {
        if (v.length == 0) {
            throw new IllegalArgumentException("median of no values");
        }
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** The nearest-rank percentile q (0..1) of values already sorted ascending. */
    public static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("percentile of no values");
        }
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    public static double min(double[] v) {
        return Arrays.stream(v).min().orElseThrow();
    }

    public static double max(double[] v) {
        return Arrays.stream(v).max().orElseThrow();
    }
}
