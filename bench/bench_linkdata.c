/* bench_linkdata OUT_DIR N — writes the two extracts of the linkage
 * benchmark (bench/run-link.sh): OUT_DIR/a/people.csv holds persons
 * 0 .. N-1 and OUT_DIR/b/people.csv persons N/2 .. N/2 + N - 1, so half of
 * each node's persons are shared with the other. Every person has a valid
 * NHS number and a date of birth, sex and postcode, unique to them and the
 * same at both nodes, so linkage is exact and the expected answer is known:
 * N/2 persons of a exist at b. Attribute columns: a has ward, b tenure.
 * Rows are written in a scrambled person order, as real extracts are. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const WARDS[] = {"Abbey", "Castle", "Priory", "Riverside", "Northgate",
                                    "Southfields", "Westbrook", "Eastwood"};
static const char *const TENURES[] = {"social", "private_rented", "owner_occupied"};

/* A valid NHS number for person i: nine digits from i, then the modulus-11
 * check digit; persons whose check would be 10 take the next base. */
static void nhs_number(uint64_t i, char out[11])
{
    for (uint64_t base = 400000000 + i * 3;; base++) {
        char d[10];
        snprintf(d, sizeof d, "%09llu", (unsigned long long)base);
        int sum = 0;
        for (int k = 0; k < 9; k++)
            sum += (d[k] - '0') * (10 - k);
        int check = 11 - sum % 11;
        if (check == 11)
            check = 0;
        if (check == 10)
            continue;
        memcpy(out, d, 9);
        out[9] = (char)('0' + check);
        out[10] = '\0';
        return;
    }
}

/* A postcode unique to person i (AA99 9AA has 457 M combinations). */
static void postcode(uint64_t i, char out[9])
{
    uint64_t x = i;
    char in2 = (char)('A' + x % 26); x /= 26;
    char in1 = (char)('A' + x % 26); x /= 26;
    int sector = (int)(x % 10); x /= 10;
    int district = (int)(x % 100); x /= 100;
    char a2 = (char)('A' + x % 26); x /= 26;
    char a1 = (char)('A' + x % 26);
    snprintf(out, 9, "%c%c%02d %d%c%c", a1, a2, district, sector, in1, in2);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int write_node(const char *dir, const char *node, uint64_t first, uint64_t n,
                      int which)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, node);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    snprintf(path, sizeof path, "%s/%s/people.csv", dir, node);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "nhs_number,date_of_birth,sex,postcode,%s\n", which == 0 ? "ward" : "tenure");
    /* A step coprime with n visits every person once, scrambled. */
    uint64_t step = 2654435761u % n;
    while (step == 0 || gcd(step, n) != 1)
        step++;
    for (uint64_t k = 0, j = 0; k < n; k++, j = (j + step) % n) {
        uint64_t i = first + j;
        char nhs[11], pc[9];
        nhs_number(i, nhs);
        postcode(i, pc);
        int year = 1930 + (int)(i % 80), month = 1 + (int)(i / 80 % 12),
            day = 1 + (int)(i / 960 % 28);
        const char *attr = which == 0 ? WARDS[i % 8] : TENURES[i % 3];
        fprintf(f, "%s,%04d-%02d-%02d,%c,%s,%s\n", nhs, year, month, day,
                i % 2 ? 'F' : 'M', pc, attr);
    }
    return fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_linkdata OUT_DIR N\n");
        return 2;
    }
    uint64_t n = strtoull(argv[2], NULL, 10);
    if (n < 2 || n > 100000000) {
        fprintf(stderr, "bench_linkdata: N must be 2..100000000\n");
        return 2;
    }
    if ((mkdir(argv[1], 0755) != 0 && errno != EEXIST) ||
        write_node(argv[1], "a", 0, n, 0) != 0 || write_node(argv[1], "b", n / 2, n, 1) != 0) {
        perror("bench_linkdata");
        return 1;
    }
    return 0;
}
