#include "audit_event.h"
#include "client_audit_log.h"
#include "hearth_mem.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The audit log as the client holds it in memory, and its bounds. */

Test(client_audit_log, log_refuses_leaves_past_the_event_bound)
{
    client_audit_log_t *log = client_audit_log_new();
    uint8_t *big = hearth_calloc(AUDIT_LEAF_MAX + 1, 1);
    char *cause = NULL;
    cr_assert_eq(client_audit_log_add_leaf(log, 3, big, AUDIT_LEAF_MAX + 1, &cause),
                 HEARTH_ERR_TOO_BIG);
    cr_assert_str_eq(cause, "leaf 3 is larger than any audit event");
    free(cause);
    cause = NULL;
    cr_assert_eq(client_audit_log_add_note(log, "a\0b", 3, &cause), HEARTH_ERR_FORMAT);
    free(cause);
    free(big);
    client_audit_log_destroy(&log);
}
