/* client_catalogue — turns the gateway's CatalogueReply into what the
 * analyst sees with `hearth catalogue`: each partner node, its datasets, their
 * columns and types, and for categorical columns the values held by at least
 * CLIENT_CATALOGUE_MIN_PERSONS people (the node chose them; the client only
 * says so). As an aligned listing for a terminal, or one line of stable JSON.
 *
 * Every string in the reply came from the network: it is escaped for JSON or
 * has its control characters made visible for the terminal, exactly as
 * client_render does, and is never used as a format string. */
#ifndef CLIENT_CATALOGUE_H
#define CLIENT_CATALOGUE_H

#include "client_render.h"
#include "hearth.pb-c.h"

/* The fewest people who must hold a categorical value before a node lists
 * it in the catalogue (proto/hearth.proto, message Column). Only quoted in
 * the table's footer: the reply does not carry it. */
#define CLIENT_CATALOGUE_MIN_PERSONS 8

/* Renders reply (borrowed) into a new NUL-terminated string ending in a
 * newline (caller frees).
 *
 * CLIENT_FORMAT_TABLE: per node a heading line "NODE (connected)" or
 * "NODE (not connected)"; per dataset its full name "NODE.DATASET" indented
 * two spaces; per column a line indented four spaces with its name, its type
 * and, for a categorical column, its listed values as SQL string literals
 * ('St Mary''s') separated by ", ", wrapped at 80 columns under one another
 * and ending in "… and more" when the node listed only some; then a footer
 * saying which values are listed.
 *
 * CLIENT_FORMAT_JSON: one line, {"nodes": [{"node", "connected",
 * "datasets": [{"dataset": "NODE.DATASET", "columns": [{"name", "type",
 * "values", "values_truncated"}]}]}]}, "values" and "values_truncated" only
 * for categorical columns. Types are "categorical", "integer", "decimal",
 * "date", or "unknown" for a type this client does not know.
 *
 * Returns NULL when reply is NULL, fmt is CLIENT_FORMAT_CSV (a list of
 * values does not fit a CSV cell; the command refuses it) or not a
 * client_format_t, or the rendering would exceed CLIENT_RENDER_MAX bytes.
 * NULL strings and absent sub-messages read as their protobuf defaults. */
char *client_catalogue_render(const Hearth__CatalogueReply *reply, client_format_t fmt);

#endif
