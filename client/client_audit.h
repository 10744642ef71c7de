/* client_audit — the IG officer's `hearth audit` commands (list, show,
 * export, verify, reconcile, report): the command line, and fetching the
 * log from the gateway's analyst endpoint (AuditLeaves/AuditCheckpoints/
 * AuditConsistency requests, auditor role). The pure pieces behind the
 * commands are modules of their own, which the tests drive directly:
 *
 *   client_audit_log        a log in memory (leaves and signed checkpoints)
 *   client_audit_export     its export file, written and parsed
 *   client_audit_verify     verify: the log proven against the gateway's key
 *   client_audit_list       list: one row per query, filters, rendering
 *   client_audit_show       show: every event of a query, rendered
 *   client_audit_report     report: a month's queries per project
 *   client_audit_reconcile  reconcile: a node's receipts against the log
 *
 * and what they share: client_audit_findings (what verify and reconcile
 * found), client_audit_events (decoding, grouping by query),
 * client_audit_time (dates on the command line and shown),
 * client_audit_out (bounded, escaped renderings) and client_audit_parse
 * (strict decimals and base64).
 *
 * Everything shown comes from the gateway: list, show and report display it
 * as sent, and only verify proves it. Errors are printed here, at the edge,
 * escaped for the terminal. */
#ifndef CLIENT_AUDIT_H
#define CLIENT_AUDIT_H

/* Leaves and checkpoints asked for per request. */
#define CLIENT_AUDIT_PAGE 1000u

/* Runs `hearth audit SUBCOMMAND ...` (argv[0] is "audit"), printing to
 * standard output and errors to standard error. Returns the exit status:
 * 0 done (verify: verified; reconcile: reconciled), 1 failed or error,
 * 2 usage. */
int client_audit_main(int argc, char **argv);

#endif
