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
 * or 0 for a new record. Returns the record's index (0, 1, 2, ...). */
size_t node_link_add(node_link_t *self, const uint8_t *t_nhs, const uint8_t *t_dsp,
                     int64_t existing);

/* Assigns a person id to every record added so far and returns them,
 * indexed by record index (owned by self, valid until the next add or
 * destroy). A group of linked records keeps the smallest existing person
 * id among them when no other group has claimed it, so re-ingesting one
 * dataset leaves the others' ids mostly unchanged; other groups get new ids
 * above every existing one. *npersons gets the number of groups. */
const int64_t *node_link_resolve(node_link_t *self, uint64_t *npersons);

#endif
