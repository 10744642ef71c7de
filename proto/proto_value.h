/* proto_value — building and freeing the Value messages that hand-built
 * results and sub-queries carry. Values made here are freed with
 * proto_value_free, never with free(). */
#ifndef PROTO_VALUE_H
#define PROTO_VALUE_H

#include "hearth.pb-c.h"

#include <stdint.h>

Hearth__Value *proto_value_null(void);
/* Copies s. */
Hearth__Value *proto_value_text(const char *s);
Hearth__Value *proto_value_integer(int64_t i);
Hearth__Value *proto_value_decimal(double d);
/* A deep copy of v; anything but text or a number becomes NULL. */
Hearth__Value *proto_value_copy(const Hearth__Value *v);
/* NULL-safe. */
void proto_value_free(Hearth__Value *v);

#endif
