/* hearth-synth — writes a synthetic neighbourhood: four partner extracts
 * laid out for `hearth sandbox`, and optionally the truth file that maps
 * every row to its true person. See docs/synthetic-data.md. */
#include "hearth_err.h"
#include "synth_date.h"
#include "synth_people.h"
#include "synth_rng.h"
#include "synth_write.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PEOPLE 20000u
#define DEFAULT_SEED 1u
#define DEFAULT_REFERENCE_DATE "2026-01-01"

static const char usage_text[] =
    "usage: hearth-synth --out DIR [--truth FILE] [--people N] [--seed S]\n"
    "                    [--reference-date YYYY-MM-DD]\n"
    "\n"
    "Writes a synthetic neighbourhood's partner extracts to\n"
    "DIR/trust/ae_attendances.csv, DIR/council/housing.csv,\n"
    "DIR/charity/referrals.csv and DIR/university/wellbeing_survey.csv.\n"
    "The same arguments always give byte-identical files.\n"
    "\n"
    "  --out DIR              folder for the extracts (created as needed)\n"
    "  --truth FILE           also write the true person id of every row\n"
    "                         (node,dataset,record,person); not inside DIR/<node>/\n"
    "  --people N             residents, 1 to 5000000 (default 20000)\n"
    "  --seed S               random seed, 0 to 2^64-1 (default 1)\n"
    "  --reference-date DATE  'today' for ages and events (default 2026-01-01)\n"
    "  --help                 show this help\n"
    "\n"
    "Exit status: 0 written, 1 input/output error, 2 usage error.\n";

typedef struct {
    const char *out_dir;    /* borrowed from argv */
    const char *truth_path; /* borrowed from argv; NULL for none */
    size_t people;
    uint64_t seed;
    int32_t ref_day;
} options_t;

/* Parses an unsigned decimal with no sign, spaces or trailing text. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int usage_error(const char *message, const char *value)
{
    if (value != NULL)
        fprintf(stderr, "hearth-synth: %s: '%s'\n", message, value);
    else
        fprintf(stderr, "hearth-synth: %s\n", message);
    fputs("Try 'hearth-synth --help'.\n", stderr);
    return 2;
}

/* Fills *opts from argv. Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, options_t *opts)
{
    enum { OPT_OUT = 1, OPT_TRUTH, OPT_PEOPLE, OPT_SEED, OPT_REF, OPT_HELP };
    static const struct option longopts[] = {
        { "out", required_argument, NULL, OPT_OUT },
        { "truth", required_argument, NULL, OPT_TRUTH },
        { "people", required_argument, NULL, OPT_PEOPLE },
        { "seed", required_argument, NULL, OPT_SEED },
        { "reference-date", required_argument, NULL, OPT_REF },
        { "help", no_argument, NULL, OPT_HELP },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v;

    opts->people = DEFAULT_PEOPLE;
    opts->seed = DEFAULT_SEED;
    (void)synth_date_parse_iso(DEFAULT_REFERENCE_DATE, &opts->ref_day);
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "", longopts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case OPT_OUT:
            if (*optarg == '\0')
                return usage_error("--out needs a folder", NULL);
            opts->out_dir = optarg;
            break;
        case OPT_TRUTH:
            if (*optarg == '\0')
                return usage_error("--truth needs a file name", NULL);
            opts->truth_path = optarg;
            break;
        case OPT_PEOPLE:
            if (parse_u64(optarg, &v) != 0 || v < 1 || v > SYNTH_PEOPLE_MAX)
                return usage_error("--people must be a whole number from 1 to 5000000",
                                   optarg);
            opts->people = (size_t)v;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, &opts->seed) != 0)
                return usage_error("--seed must be a whole number from 0 to 2^64-1",
                                   optarg);
            break;
        case OPT_REF:
            if (synth_date_parse_iso(optarg, &opts->ref_day) != 0)
                return usage_error("--reference-date must be a date YYYY-MM-DD "
                                   "between 1900 and 2999", optarg);
            break;
        case OPT_HELP:
            fputs(usage_text, stdout);
            return 0;
        default:
            return usage_error("unknown option or missing value",
                               argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (opts->out_dir == NULL)
        return usage_error("--out DIR is required", NULL);
    return -1;
}

int main(int argc, char **argv)
{
    options_t opts = { 0 };
    int status = parse_args(argc, argv, &opts);
    if (status >= 0)
        return status;

    char *cause = NULL;
    synth_rng_t *rng = synth_rng_new(opts.seed);
    synth_people_t *people = NULL;
    synth_write_counts_t counts;
    hearth_err_t rc = synth_people_new(opts.people, opts.ref_day, rng, &people, &cause);
    if (rc == HEARTH_OK)
        rc = synth_write_all(people, rng, opts.out_dir, opts.truth_path, &counts, &cause);
    if (rc == HEARTH_OK) {
        for (unsigned i = 0; i < SYNTH_WRITE_DATASETS; i++)
            printf("%s: %lu rows\n", synth_write_name(i), counts.rows[i]);
        status = 0;
    } else {
        fprintf(stderr, "hearth-synth: %s: %s\n", hearth_strerror(rc),
                cause != NULL ? cause : "");
        status = rc == HEARTH_ERR_USAGE ? 2 : 1;
    }
    free(cause);
    synth_people_destroy(&people);
    synth_rng_destroy(&rng);
    return status;
}
