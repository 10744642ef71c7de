#include "proto_value.h"
#include "hearth_mem.h"
#include "proto_codec.h"

#include <stdlib.h>

static Hearth__Value *new_value(Hearth__Value__KindCase kind)
{
    Hearth__Value *v = hearth_malloc(sizeof *v);
    hearth__value__init(v);
    v->kind_case = kind;
    return v;
}

Hearth__Value *proto_value_null(void)
{
    Hearth__Value *v = new_value(HEARTH__VALUE__KIND_NULL);
    v->null = 1;
    return v;
}

Hearth__Value *proto_value_text(const char *s)
{
    Hearth__Value *v = new_value(HEARTH__VALUE__KIND_TEXT);
    v->text = hearth_strdup(s ? s : "");
    return v;
}

Hearth__Value *proto_value_integer(int64_t i)
{
    Hearth__Value *v = new_value(HEARTH__VALUE__KIND_INTEGER);
    v->integer = i;
    return v;
}

Hearth__Value *proto_value_decimal(double d)
{
    Hearth__Value *v = new_value(HEARTH__VALUE__KIND_DECIMAL);
    v->decimal = d;
    return v;
}

Hearth__Value *proto_value_copy(const Hearth__Value *v)
{
    switch (v->kind_case) {
    case HEARTH__VALUE__KIND_TEXT: return proto_value_text(v->text);
    case HEARTH__VALUE__KIND_INTEGER: return proto_value_integer(v->integer);
    case HEARTH__VALUE__KIND_DECIMAL: return proto_value_decimal(v->decimal);
    default: return proto_value_null();
    }
}

void proto_value_free(Hearth__Value *v)
{
    if (v == NULL)
        return;
    if (v->kind_case == HEARTH__VALUE__KIND_TEXT)
        proto_free_string(v->text);
    free(v);
}
