/* Tests for gw_policy: resolving the rules for one query from the gateway,
 * a project's rules and the nodes' floors (the strictest threshold wins;
 * the rest is the project's or the gateway's, never looser than the
 * gateway's as it is now); the project's name copied and cut; the p% and
 * (n,k) dominance rules on exact cases, boundaries included; and the
 * dominance text for the JSON. */
#include "gw_policy.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A gateway at threshold 8, rounding 5, p% 10, with one project's rules
 * "audit" that are stricter in every way, and "plain" that change
 * nothing. */
typedef struct {
    gw_config_t cfg;
    gw_project_policy_t audit, plain;
} fixture_t;

static void make_fixture(fixture_t *f)
{
    memset(f, 0, sizeof *f);
    gw_sdc_policy_default(&f->cfg.disclosure);
    f->cfg.disclosure.threshold = 8;
    f->cfg.dominance = (gw_dominance_t){.kind = GW_DOMINANCE_P, .p = 10};
    gw_project_policy_t *a = &f->audit;
    a->disclosure = f->cfg.disclosure;
    a->disclosure.threshold = 11;
    a->disclosure.rounding = 10;
    a->disclosure.zeros_disclosive = true;
    a->disclosure.protection = 4;
    a->dominance = (gw_dominance_t){.kind = GW_DOMINANCE_P, .p = 20};
    strcpy(a->dp_epsilon, "1/2");
    strcpy(a->dp_budget, "2");
    gw_config_policy_default(&f->cfg, &f->plain);
}

Test(gw_policy, without_a_project_the_gateway_rules_apply)
{
    fixture_t f;
    make_fixture(&f);
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, NULL, NULL, NULL, 0, &p, &cause), HEARTH_OK);
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
    cr_assert_eq(gw_policy_resolve(&f.cfg, "", NULL, NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_str_eq(p.project, "");
    cr_assert_eq(p.sdc.threshold, 8);
}

Test(gw_policy, a_project_brings_its_own_rules_and_name)
{
    fixture_t f;
    make_fixture(&f);
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, "audit", &f.audit, NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_null(cause);
    cr_assert_eq(p.sdc.threshold, 11);
    cr_assert_eq(p.sdc.rounding, 10);
    cr_assert_eq(p.sdc.zeros_disclosive, true);
    cr_assert_eq(p.sdc.protection, 4);
    cr_assert_eq(p.dominance.p, 20);
    cr_assert_str_eq(p.project, "audit");
    cr_assert_str_eq(p.dp_epsilon, "1/2");
    cr_assert_str_eq(p.dp_budget, "2");
}

Test(gw_policy, a_name_without_rules_gets_the_gateway_rules)
{
    fixture_t f;
    make_fixture(&f);
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, "sandbox", NULL, NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_str_eq(p.project, "sandbox");
    cr_assert_eq(p.sdc.threshold, 8);
    cr_assert_eq(p.sdc.rounding, 5);
    cr_assert_str_eq(p.dp_epsilon, "");
}

Test(gw_policy, the_name_is_cut_to_the_longest_project_name)
{
    fixture_t f;
    make_fixture(&f);
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, longname, &f.plain, NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_eq(strlen(p.project), GW_NAME_MAX);
    cr_assert_eq(strncmp(p.project, longname, GW_NAME_MAX), 0);
}

Test(gw_policy, the_highest_node_floor_raises_the_threshold)
{
    fixture_t f;
    make_fixture(&f);
    gw_policy_t p;
    char *cause = NULL;
    uint32_t floors[] = {0, 9, 13, 10};
    cr_assert_eq(gw_policy_resolve(&f.cfg, "audit", &f.audit, floors, 4, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 13);
    cr_assert_eq(p.sdc.rounding, 10);
    cr_assert_eq(gw_policy_resolve(&f.cfg, NULL, NULL, floors, 2, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 9);
    /* Floors at or below the rules change nothing; 0 sets none. */
    uint32_t low[] = {0, 5, 11};
    cr_assert_eq(gw_policy_resolve(&f.cfg, "audit", &f.audit, low, 3, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 11);
    cr_assert_eq(gw_policy_resolve(&f.cfg, "plain", &f.plain, low, 2, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 8);
}

Test(gw_policy, a_project_never_lowers_the_gateway_threshold)
{
    /* gw_project refuses this when a project is added; [disclosure] may
     * have been raised since, and the gateway's threshold wins. */
    fixture_t f;
    make_fixture(&f);
    f.plain.disclosure.threshold = 3;
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, "plain", &f.plain, NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.threshold, 8);
}

Test(gw_policy, rules_stored_before_disclosure_became_stricter_are_raised_to_it)
{
    fixture_t f;
    make_fixture(&f);
    /* The project was added under rounding 5, protection 3, zeros
     * released and p% 10; the gateway now says rounding 4, protection 5,
     * zeros disclosive and p% 30. */
    f.cfg.disclosure.rounding = 4;
    f.cfg.disclosure.protection = 5;
    f.cfg.disclosure.zeros_disclosive = true;
    f.cfg.dominance.p = 30;
    gw_policy_t p;
    char *cause = NULL;
    cr_assert_eq(gw_policy_resolve(&f.cfg, "plain", &f.plain, NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.rounding, 20);   /* a multiple of both 5 and 4 */
    cr_assert_eq(p.sdc.protection, 5);
    cr_assert_eq(p.sdc.zeros_disclosive, true);
    cr_assert_eq(p.dominance.kind, GW_DOMINANCE_P);
    cr_assert_eq(p.dominance.p, 30);
    /* Where the project is already at least as strict, it is kept. */
    f.cfg.disclosure.rounding = 5;
    f.cfg.dominance.p = 15;
    cr_assert_eq(gw_policy_resolve(&f.cfg, "audit", &f.audit, NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.sdc.rounding, 10);
    cr_assert_eq(p.sdc.protection, 5);
    cr_assert_eq(p.dominance.p, 20);
    /* Another kind of rule is not comparable: the gateway's replaces it. */
    f.cfg.dominance = (gw_dominance_t){.kind = GW_DOMINANCE_NK, .n = 2, .k = 85};
    cr_assert_eq(gw_policy_resolve(&f.cfg, "audit", &f.audit, NULL, 0, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.dominance.kind, GW_DOMINANCE_NK);
    cr_assert_eq(p.dominance.n, 2);
    cr_assert_eq(p.dominance.k, 85);
    cr_assert_null(cause);
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
