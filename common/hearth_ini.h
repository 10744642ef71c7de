/* hearth_ini — reading an INI config file with inih, with one way of
 * reporting problems: "<path>:<line>: <what is wrong>". */
#ifndef HEARTH_INI_H
#define HEARTH_INI_H

#include "hearth_err.h"

/* Called once per setting. Returns 1 to go on, or 0 after setting *cause
 * (with hearth_cause_set) to stop at this line. */
typedef int (*hearth_ini_handler_t)(void *user, const char *section, const char *name,
                                    const char *value, char **cause);

/* Parses path, calling handler for every setting. HEARTH_ERR_NOT_FOUND when
 * the file cannot be read, HEARTH_ERR_CONFIG (with the line) when the
 * handler refuses a setting or the syntax is wrong. */
hearth_err_t hearth_ini_load(const char *path, hearth_ini_handler_t handler, void *user,
                             char **cause) __attribute__((warn_unused_result));

#endif
