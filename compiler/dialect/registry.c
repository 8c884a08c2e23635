/* SPDX-License-Identifier: MIT */
/* registry.c: the table of dialects (dialects.def) and lookups in it (dialect.h). */
#include "compiler/dialect.h"

#include <string.h>

#include "core/util.h"

static const struct dialect *const dialects[DIALECT_COUNT] = {
#define DIALECT(id, sym) [id] = &sym,
#include "compiler/dialect/dialects.def"
#undef DIALECT
};

const struct dialect *
dialect_get(enum dialect_id id)
{
    assert(id < DIALECT_COUNT && dialects[id]->id == id);
    return dialects[id];
}

const struct dialect *
dialect_find(const char *name)
{
    for (size_t i = 0; i < DIALECT_COUNT; i++)
        if (strcmp(name, dialects[i]->name) == 0)
            return dialects[i];
    return NULL;
}

const char *
dialect_name(enum dialect_id id)
{
    return dialect_get(id)->name;
}

bool
dialect_lookup(const char *name, enum dialect_id *out)
{
    const struct dialect *d = dialect_find(name);

    if (d)
        *out = d->id;
    return d != NULL;
}

void
dialect_names_text(struct strbuf *out)
{
    for (size_t i = 0; i < DIALECT_COUNT; i++) {
        if (i)
            strbuf_puts(out, i + 1 == DIALECT_COUNT ? " and " : ", ");
        strbuf_puts(out, dialects[i]->name);
    }
}

const struct dialect *
dialect_suggest(const char *name)
{
    for (size_t i = 0; i < DIALECT_COUNT; i++)
        if (edit_distance(name, dialects[i]->name, 3) <= 3)
            return dialects[i];
    return NULL;
}
