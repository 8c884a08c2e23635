/* SPDX-License-Identifier: MIT */
/* lints.c: the catalogue of lints (lint.h): their names, which "allow" takes, and their codes. */
#include "compiler/lint.h"

#include <string.h>

static const struct {
    const char *name;
    const char *code;
} lints[LINT_COUNT] = {
    [LINT_DATA_LOSS] = {"data_loss", "W0601"},
    [LINT_TABLE_REWRITE] = {"table_rewrite", "W0401"},
    [LINT_TABLE_LOCK] = {"table_lock", "W0402"},
    [LINT_SQLITE_REBUILD] = {"sqlite_rebuild", "W0501"},
    [LINT_NARROWING] = {"narrowing", "W0403"},
};

const char *
lint_name(enum lint_id l)
{
    return lints[l].name;
}

const char *
lint_code(enum lint_id l)
{
    return lints[l].code;
}

bool
lint_lookup(const char *name, enum lint_id *out)
{
    for (int l = 0; l < LINT_COUNT; l++) {
        if (strcmp(name, lints[l].name) == 0) {
            *out = (enum lint_id)l;
            return true;
        }
    }
    return false;
}

const char *
lint_names_text(void)
{
    return "data_loss, table_rewrite, table_lock, sqlite_rebuild and narrowing";
}
