/*
 * A freestanding C guest: a sieve of Eratosthenes below 200,000, a bitwise CRC-32 over the
 * sieve, and a little formatting, with write/exit done by raw Linux system calls.
 * Built with: gcc -O2 -ffreestanding -fcf-protection=none -mgeneral-regs-only (see ../build.sh).
 * Exits 0 when the count and the CRC are the expected ones (a self-check), 1 otherwise.
 */
typedef unsigned long size_t;
typedef unsigned int u32;
typedef unsigned char u8;

#define LIMIT 200000

static u8 composite[LIMIT];

/* gcc may turn loops into calls to these even when freestanding. */
void *memset(void *d, int c, size_t n) {
    u8 *p = d;
    while (n--) *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n) {
    u8 *p = d;
    const u8 *q = s;
    while (n--) *p++ = *q++;
    return d;
}

static long sys3(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

static void put(const char *s, size_t n) { sys3(1, 1, (long)s, (long)n); }

static size_t fmt_u(char *out, unsigned long v, int base) {
    char tmp[24];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % (unsigned)base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= (unsigned)base;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

static u32 crc32(const u8 *p, size_t n) {
    u32 crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
    }
    return ~crc;
}

__attribute__((noreturn)) void _start(void) {
    unsigned count = 0;
    for (u32 i = 2; i < LIMIT; i++) {
        if (composite[i]) continue;
        count++;
        for (unsigned long j = (unsigned long)i * i; j < LIMIT; j += i) composite[j] = 1;
    }
    u32 crc = crc32(composite, LIMIT);

    char line[96];
    size_t n = 0;
    const char *a = "primes: below 200000: ";
    while (*a) line[n++] = *a++;
    n += fmt_u(line + n, count, 10);
    const char *b = ", crc32 0x";
    while (*b) line[n++] = *b++;
    n += fmt_u(line + n, crc, 16);
    line[n++] = '\n';
    put(line, n);
    int right = count == 17984 && crc == 0x13abea3d; /* the self-check: exit 0 when the result is right */
    if (!right) {
        static const char failed[] = "self-check FAILED: that is not the expected result\n";
        put(failed, sizeof failed - 1);
    }
    sys3(60, right ? 0 : 1, 0, 0);
    for (;;) {
    }
}
