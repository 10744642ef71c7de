#include "e2e_partnership.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *e2e_partnership_set_line(const char *text, const char *key, const char *value)
{
    const char *at = strncmp(text, key, strlen(key)) == 0 ? text : NULL;
    if (at == NULL) {
        char *nl_key = e2e_asprintf("\n%s", key);
        at = strstr(text, nl_key);
        free(nl_key);
        cr_assert_not_null(at, "no line '%s' in:\n%s", key, text);
        at++;
    }
    const char *end = strchr(at, '\n');
    return e2e_asprintf("%.*s%s%s%s", (int)(at - text), text, key, value, end ? end : "\n");
}

char *e2e_partnership_read(const char *path)
{
    char *text = e2e_read_file(path, 16u << 20, NULL);
    cr_assert_not_null(text, "cannot read %s", path);
    return text;
}

void e2e_partnership_write(const char *path, const char *text)
{
    cr_assert_eq(e2e_write_file(path, text, strlen(text)), 0, "cannot write %s", path);
}

void e2e_partnership_prepare(const char *data, const char *log_path)
{
    char *why = NULL;
    e2e_sandbox_t *sb = e2e_sandbox_start(data, log_path, &why);
    cr_assert_not_null(sb, "hearth sandbox did not start: %s", why);
    cr_assert_eq(e2e_sandbox_stop(&sb, NULL), 0);
}

/* Waits for the gateway's ready file; returns its text (caller frees). */
static char *wait_ready(const char *path)
{
    for (unsigned waited = 0; waited < E2E_PARTNERSHIP_START_MS; waited += 50) {
        char *text = e2e_read_file(path, 4096, NULL);
        if (text && strstr(text, "analyst_endpoint="))
            return text;
        free(text);
        usleep(50 * 1000);
    }
    cr_assert_fail("the gateway wrote no %s", path);
    return NULL;
}

/* The value of "key=" in the ready file's text; caller frees. */
static char *ready_value(const char *text, const char *key)
{
    const char *at = strstr(text, key);
    cr_assert_not_null(at, "no %s in %s", key, text);
    at += strlen(key);
    return e2e_asprintf("%.*s", (int)strcspn(at, "\n"), at);
}

/* Polls `hearth status` until every node is connected. */
static void wait_connected(const e2e_partnership_t *p)
{
    char *hearth = e2e_bin("hearth");
    char *argv[] = {hearth, "status", "--config", p->client, NULL};
    bool ready_all = false;
    for (unsigned waited = 0; waited < E2E_PARTNERSHIP_START_MS && !ready_all; waited += 100) {
        e2e_result_t r;
        if (e2e_run(argv, 10000, &r) == 0) {
            size_t connected = 0;
            for (const char *s = r.out; (s = strstr(s, " connected\n")) != NULL; s++)
                connected++;
            ready_all = connected == p->nnodes && strstr(r.out, "not connected") == NULL;
        }
        e2e_result_free(&r);
        if (!ready_all)
            usleep(100 * 1000);
    }
    free(hearth);
    cr_assert(ready_all, "not every node connected to the gateway");
}

void e2e_partnership_launch(e2e_partnership_t *p, const char *gateway_prog,
                            const char *gateway_ini, const char *hook, bool wait)
{
    cr_assert_leq(p->nnodes, E2E_PARTNERSHIP_MAX_NODES);
    unsigned n = ++p->launches;
    char *gw_ini = gateway_ini ? e2e_asprintf("%s", gateway_ini)
                               : e2e_asprintf("%s/gateway.ini", p->state);
    char *ready = e2e_asprintf("%s/gateway.ready", p->state);
    unlink(ready);
    char *gw_bin = e2e_bin(gateway_prog);
    char *gw_log = e2e_asprintf("%s/gateway-%u.log", p->logs, n);
    char *gw_argv[] = {gw_bin, "serve", "--config", gw_ini, NULL};
    char *why = NULL;
    if (hook)
        setenv("HEARTH_TEST_HOOK", hook, 1);
    p->gateway = e2e_proc_start(gw_argv, gw_log, &why);
    unsetenv("HEARTH_TEST_HOOK");
    cr_assert_not_null(p->gateway, "%s", why);
    char *ready_text = wait_ready(ready);
    char *node_ep = ready_value(ready_text, "node_endpoint=");
    char *analyst_ep = ready_value(ready_text, "analyst_endpoint=");
    free(ready_text);
    free(ready);
    free(gw_bin);
    free(gw_log);
    free(gw_ini);
    char *node_bin = e2e_bin("hearth-node");
    for (size_t i = 0; i < p->nnodes; i++) {
        char *path = e2e_asprintf("%s/nodes/%s/node.ini", p->state, p->nodes[i]);
        char *old = e2e_partnership_read(path);
        char *now = e2e_partnership_set_line(old, "endpoint = ", node_ep);
        e2e_partnership_write(path, now);
        char *node_log = e2e_asprintf("%s/%s-%u.log", p->logs, p->nodes[i], n);
        char *argv[] = {node_bin, "serve", "--config", path, NULL};
        p->procs[i] = e2e_proc_start(argv, node_log, &why);
        cr_assert_not_null(p->procs[i], "%s", why);
        free(node_log);
        free(old);
        free(now);
        free(path);
    }
    free(node_bin);
    char *client_base = e2e_asprintf("%s/client.ini", p->state);
    char *old = e2e_partnership_read(client_base);
    char *now = e2e_partnership_set_line(old, "gateway = ", analyst_ep);
    free(p->client);
    p->client = e2e_asprintf("%s/client-e2e.ini", p->state);
    e2e_partnership_write(p->client, now);
    free(old);
    free(now);
    free(client_base);
    free(node_ep);
    free(analyst_ep);
    if (wait)
        wait_connected(p);
}

void e2e_partnership_halt(e2e_partnership_t *p)
{
    for (size_t i = 0; i < p->nnodes && i < E2E_PARTNERSHIP_MAX_NODES; i++)
        e2e_proc_stop(&p->procs[i], E2E_PARTNERSHIP_STOP_MS);
    e2e_proc_stop(&p->gateway, E2E_PARTNERSHIP_STOP_MS);
}

void e2e_partnership_free(e2e_partnership_t *p)
{
    e2e_partnership_halt(p);
    free(p->client);
    p->client = NULL;
}
