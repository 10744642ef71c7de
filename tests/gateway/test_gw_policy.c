/* Tests for gw_policy: resolving the rules for one query from the gateway,
 * a project and the nodes' floors (the strictest threshold wins; the rest
 * is the project's or the gateway's); unknown projects refused with a
 * sanitised name; the p% and (n,k) dominance rules on exact cases,
 * boundaries included; and the dominance text for the JSON. */
#include "gw_policy.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A gateway at threshold 8, rounding 5, with one project "audit" that is
 * stricter in every way, and one "plain" that changes nothing. */
typedef struct {
    gw_config_t cfg;
    gw_project_t projects[2];
} fixture_t;

static void make_fixture(fixture_t *f)
{
    memset(f, 0, sizeof *f);
    gw_sdc_policy_default(&f->cfg.disclosure);
    f->cfg.disclosure.threshold = 8;
    f->cfg.dominance = (gw_dominance_t){.kind = GW_DOMINANCE_P, .p = 10};
    gw_project_t *a = &f->projects[0];
    strcpy(a->name, "audit");
    a->disclosure = f->cfg.disclosure;
    a->disclosure.threshold = 11;
    a->disclosure.rounding = 10;
    a->disclosure.zeros_disclosive = true;
    a->disclosure.protection = 4;
    a->dominance = (gw_dominance_t){.kind = GW_DOMINANCE_P, .p = 20};
    strcpy(a->dp_epsilon, "1/2");
    strcpy(a->dp_budget, "2");
    gw_project_t *b = &f->projects[1];
    strcpy(b->name, "plain");
    b->disclosure = f->cfg.disclosure;
    b->dominance = f->cfg.dominance;
    f->cfg.projects = f->projects;
    f->cfg.nprojects = 2;
}

Test(gw_policy, without_a_project_the_gateway_rules_apply)
{
    fixture_t f;
    make_fixture(&f);
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, NULL, NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_null(cause);
    cr_assert_eq(p.sdc.threshold, 8);
    cr_assert_eq(p.sdc.rounding, 5);
    cr_assert_eq(p.sdc.zeros_disclosive, false);
    cr_assert_eq(p.sdc.protection, 3);
    cr_assert_eq(p.dominance.kind, GW_DOMINANCE_P);
    cr_assert_eq(p.dominance.p, 10);
    cr_assert_str_eq(p.project, "");
    cr_assert_str_eq(p.dp_epsilon, "");
    cr_assert_str_eq(p.dp_budget, "");
    /* "" is no project, as the wire's empty string is. */
    cr_assert_eq(gw_policy_resolve(&f.cfg, "", NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_str_eq(p.project, "");
    cr_assert_eq(p.sdc.threshold, 8);
}

Test(gw_policy, a_project_brings_its_own_rules)
{
    fixture_t f;
    make_fixture(&f);
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, "audit", NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 11);
    cr_assert_eq(p.sdc.rounding, 10);
    cr_assert_eq(p.sdc.zeros_disclosive, true);
    cr_assert_eq(p.sdc.protection, 4);
    cr_assert_eq(p.dominance.p, 20);
    cr_assert_str_eq(p.project, "audit");
    cr_assert_str_eq(p.dp_epsilon, "1/2");
    cr_assert_str_eq(p.dp_budget, "2");
}

Test(gw_policy, the_highest_node_floor_raises_the_threshold)
{
    fixture_t f;
    make_fixture(&f);
    gw_policy_t p;
    char *cause = NULL;
    uint32_t floors[] = {0, 9, 13, 10};
    cr_assert_eq(gw_policy_resolve(&f.cfg, "audit", floors, 4, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 13);
    cr_assert_eq(p.sdc.rounding, 10);
    cr_assert_eq(gw_policy_resolve(&f.cfg, NULL, floors, 2, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 9);
    /* Floors at or below the rules change nothing; 0 sets none. */
    uint32_t low[] = {0, 5, 11};
    cr_assert_eq(gw_policy_resolve(&f.cfg, "audit", low, 3, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 11);
    cr_assert_eq(gw_policy_resolve(&f.cfg, "plain", low, 2, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 8);
}

Test(gw_policy, a_project_never_lowers_the_gateway_threshold)
{
    /* gw_config refuses this; a hand-built config still gets the maximum. */
    fixture_t f;
    make_fixture(&f);
    f.projects[1].disclosure.threshold = 3;
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, "plain", NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 8);
}

Test(gw_policy, refuses_an_unknown_project_by_name)
{
    fixture_t f;
    make_fixture(&f);
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, "nope", NULL, 0, &p, &cause), HEARTH_ERR_REFUSED);
    cr_assert_str_eq(cause, "no such project 'nope'");
    cr_assert_str_eq(p.project, "");
    cr_assert_eq(p.sdc.threshold, 0);
    free(cause);
}

Test(gw_policy, an_unknown_project_name_is_shown_sanitised_and_cut)
{
    fixture_t f;
    make_fixture(&f);
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, "Evil\x1b[31m\n\xe2\x80\xae", NULL, 0, &p, &cause),
                 HEARTH_ERR_REFUSED);
    /* \? keeps "??'" from being read as a trigraph. */
    cr_assert_str_eq(cause, "no such project '?vil\?\?31m\?\?\?\?'");
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_assert_eq(gw_policy_resolve(&f.cfg, longname, NULL, 0, &p, &cause), HEARTH_ERR_REFUSED);
    char want[100];
    snprintf(want, sizeof want, "no such project '%.63s'", longname);
    cr_assert_str_eq(cause, want);
    free(cause);
}

static gw_policy_t with_dominance(gw_dominance_kind_t kind, uint32_t a, uint32_t b)
{
    gw_policy_t p;
    memset(&p, 0, sizeof p);
    p.dominance.kind = kind;
    if (kind == GW_DOMINANCE_P) {
        p.dominance.p = a;
    } else if (kind == GW_DOMINANCE_NK) {
        p.dominance.n = a;
        p.dominance.k = b;
    }
    return p;
}

Test(gw_policy, p_percent_hides_a_cell_whose_rest_is_under_p_percent_of_the_largest)
{
    gw_policy_t p = with_dominance(GW_DOMINANCE_P, 10, 0);
    /* rest = 100 - 90 - 5 = 5 < 9 */
    cr_assert(gw_policy_dominated(&p, 100, (double[]){90, 5}, 2));
    /* rest = 100 - 80 - 10 = 10, not < 8 */
    cr_assert_not(gw_policy_dominated(&p, 100, (double[]){80, 10}, 2));
    /* boundary: rest 10 against exactly 10% of 100 is not under it */
    cr_assert_not(gw_policy_dominated(&p, 110, (double[]){100, 0}, 2));
    cr_assert(gw_policy_dominated(&p, 109, (double[]){100, 0}, 2));
    /* one contributor: the cell is that person */
    cr_assert(gw_policy_dominated(&p, 42, (double[]){42}, 1));
    /* no contributions at all: nothing to disclose */
    cr_assert_not(gw_policy_dominated(&p, 0, NULL, 0));
    /* a third top value is not used by p% */
    cr_assert(gw_policy_dominated(&p, 100, (double[]){90, 5, 5}, 3));
}

Test(gw_policy, nk_hides_a_cell_whose_n_largest_exceed_k_percent)
{
    gw_policy_t p = with_dominance(GW_DOMINANCE_NK, 2, 85);
    /* 50 + 35 = 85, not > 85 */
    cr_assert_not(gw_policy_dominated(&p, 100, (double[]){50, 35, 10}, 3));
    /* 50 + 36 = 86 > 85 */
    cr_assert(gw_policy_dominated(&p, 100, (double[]){50, 36, 10}, 3));
    /* the third is not among the n = 2 largest */
    cr_assert_not(gw_policy_dominated(&p, 1000, (double[]){400, 400, 190}, 3));
    gw_policy_t one = with_dominance(GW_DOMINANCE_NK, 1, 50);
    cr_assert_not(gw_policy_dominated(&one, 100, (double[]){50}, 1));
    cr_assert(gw_policy_dominated(&one, 100, (double[]){51}, 1));
    /* fewer contributions than n: all of them are the n largest */
    gw_policy_t three = with_dominance(GW_DOMINANCE_NK, 3, 69);
    cr_assert(gw_policy_dominated(&three, 100, (double[]){40, 30}, 2));
    cr_assert_not(gw_policy_dominated(&three, 100, (double[]){40, 29}, 2));
    cr_assert_not(gw_policy_dominated(&three, 0, NULL, 0));
}

Test(gw_policy, off_never_hides_a_cell)
{
    gw_policy_t p = with_dominance(GW_DOMINANCE_OFF, 0, 0);
    cr_assert_not(gw_policy_dominated(&p, 100, (double[]){100}, 1));
    cr_assert_not(gw_policy_dominated(&p, 0, NULL, 0));
}

Test(gw_policy, describes_dominance_for_the_json)
{
    char text[GW_POLICY_DOMINANCE_TEXT_MAX];
    gw_policy_t p = with_dominance(GW_DOMINANCE_OFF, 0, 0);
    gw_policy_describe_dominance(&p, text);
    cr_assert_str_eq(text, "");
    p = with_dominance(GW_DOMINANCE_P, 10, 0);
    gw_policy_describe_dominance(&p, text);
    cr_assert_str_eq(text, "p% 10");
    p = with_dominance(GW_DOMINANCE_NK, 2, 85);
    gw_policy_describe_dominance(&p, text);
    cr_assert_str_eq(text, "n,k 2 85");
}
