/* hearth-gateway: the partnership's central service. */
#include "gw_config.h"
#include "gw_serve.h"
#include "hearth_err.h"
#include "hearth_util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: hearth-gateway serve --config gateway.ini\n"
    "\n"
    "  serve   accept node and analyst connections and answer queries\n"
    "\n"
    "  --config FILE  the gateway's configuration (see docs/operator.md)\n";

/* Written by the signal handler, read by the serve loop; nothing else. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL;
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c')
            config = optarg;
        else if (c == 'h') {
            fputs(USAGE, stdout);
            return 0;
        } else {
            fputs(USAGE, stderr);
            return 2;
        }
    }
    if (strcmp(argv[1], "serve") != 0 || config == NULL || optind != argc) {
        fputs(USAGE, stderr);
        return 2;
    }
    char *cause = NULL;
    gw_config_t *cfg = NULL;
    hearth_err_t rc = gw_config_load(config, &cfg, &cause);
    if (rc == HEARTH_OK) {
        hearth_catch_stop_signals(on_signal);
        rc = gw_serve_run(cfg, &stop_requested, &cause);
    }
    if (rc != HEARTH_OK)
        fprintf(stderr, "hearth-gateway: %s\n", cause ? cause : hearth_strerror(rc));
    free(cause);
    gw_config_destroy(&cfg);
    return rc == HEARTH_OK ? 0 : 1;
}
