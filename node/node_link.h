/* node_link — gives the records of one node local person ids: two records
 * are the same person when they share a token (NHS number or date of birth
 * + sex + postcode), transitively, across all the node's datasets.
 *
 * Union-find over records, with a hash table from token to the first record
 * that carried it. Person ids never leave the node; they exist so that
 * COUNT(PERSONS) and linkage can be answered per person. */
#ifndef NODE_LINK_H
#define NODE_LINK_H

#include <stddef.h>
#include <stdint.h>

#define NODE_LINK_TOKEN_LEN 32

typedef struct node_link_t node_link_t;

node_link_t *node_link_new(void);

/* NULL-safe; wipes the tokens it copied; nulls the caller's pointer. */
void node_link_destroy(node_link_t **self_p);

/* Adds one record. t_nhs and t_dsp (NODE_LINK_TOKEN_LEN bytes each) may be
 * NULL; they are copied. existing is the record's current person id (> 0)
 * or 0 for a new record; every existing record must be added before the
 * first new one. Returns the record's index (0, 1, 2, ...). */
size_t node_link_add(node_link_t *self, const uint8_t *t_nhs, const uint8_t *t_dsp,
                     int64_t existing);

/* The person id rec would get if nothing more were added: its group's
 * smallest existing id, or (largest existing id + 1 + the index of the
 * group's first record). Lets an ingest store rows while it is still
 * reading; node_link_resolve says which rows later links changed. */
int64_t node_link_provisional(node_link_t *self, size_t rec);

/* Assigns a person id to every record added so far and returns them,
 * indexed by record index (owned by self, valid until the next add or
 * destroy). A group keeps its smallest existing person id when no earlier
 * group has claimed it, so re-ingesting one dataset leaves the others' ids
 * mostly unchanged; any other group gets (largest existing id + 1 + index
 * of its first record), the same rule as node_link_provisional. Ids are
 * unique per group but not consecutive. *npersons gets the number of
 * groups. */
const int64_t *node_link_resolve(node_link_t *self, uint64_t *npersons);

#endif
