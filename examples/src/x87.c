/*
 * A freestanding C guest doing double arithmetic the way gcc compiles it without SSE
 * (-mno-sse -mno-sse2): x87 instructions only. It sums a Leibniz series for pi, runs Newton's
 * method for square roots, evaluates a polynomial with negative and fractional values, compares
 * and converts between integers and doubles, and prints the results as fixed-point decimals.
 * Doubles cross function boundaries through pointers: the x86-64 ABI passes them in SSE registers.
 * Built with: gcc -O2 -ffreestanding -fcf-protection=none -mno-sse -mno-sse2 -mno-mmx (see ../build.sh).
 * Runs natively and under lbrvmm; the test compares the two outputs. (lbrvmm computes in IEEE double,
 * not the x87's 80-bit extended precision: the values printed here do not depend on it.)
 */
typedef unsigned long size_t;

static long sys3(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

static size_t len(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static void puts_(const char *s) { sys3(1, 1, (long)s, (long)len(s)); }

/* "label: -123.456789" with 6 decimals, rounded to nearest. */
static void show(const char *label, const double *value) {
    double v = *value;
    char buf[64];
    int n = 0;
    for (const char *p = label; *p; p++) buf[n++] = *p;
    buf[n++] = ':';
    buf[n++] = ' ';
    if (v < 0) {
        buf[n++] = '-';
        v = -v;
    }
    long scaled = (long)(v * 1000000.0 + 0.5);
    long ip = scaled / 1000000, fp = scaled % 1000000;
    char tmp[24];
    int t = 0;
    do { tmp[t++] = (char)('0' + ip % 10); ip /= 10; } while (ip);
    while (t) buf[n++] = tmp[--t];
    buf[n++] = '.';
    for (long d = 100000; d; d /= 10) buf[n++] = (char)('0' + (fp / d) % 10);
    buf[n++] = '\n';
    buf[n] = 0;
    puts_(buf);
}

static void leibniz(int terms, double *out) {
    double s = 0;
    for (int k = 0; k < terms; k++) {
        double t = 1.0 / (2 * k + 1);
        s += (k & 1) ? -t : t;
    }
    *out = 4 * s;
}

static void newton_sqrt(const double *x, double *out) {
    double r = *x > 1 ? *x / 2 : 1;
    for (int i = 0; i < 40; i++) r = (r + *x / r) / 2;
    *out = r;
}

static void poly(const double *x, double *out) { *out = ((0.5 * *x - 1.25) * *x + 3.0) * *x - 7.75; }

volatile double sink;

void _start(void) {
    double r, x;
    leibniz(200000, &r);
    show("pi (Leibniz, 200000 terms)", &r);
    x = 2.0;
    newton_sqrt(&x, &r);
    show("sqrt(2)", &r);
    x = 12345.678;
    newton_sqrt(&x, &r);
    show("sqrt(12345.678)", &r);
    double m = -1e9;
    for (int i = -20; i <= 20; i++) {
        x = i * 0.37;
        poly(&x, &r);
        if (r > m) m = r;
        sink = r;
    }
    show("max poly on [-7.4, 7.4]", &m);
    x = -3.3;
    poly(&x, &r);
    show("poly(-3.3)", &r);
    volatile long big = 1234567;
    r = (double)big / 1000.0;
    show("1234567 / 1000", &r);
    volatile double q = -7.0;
    r = (double)(long)(q / 2);
    show("(long)(-7.0 / 2)", &r);
    r = __builtin_fabs(q / 2) * 3;
    show("fabs(-3.5) * 3", &r);
    sys3(60, 0, 0, 0);
}
