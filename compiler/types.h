/* SPDX-License-Identifier: MIT */
/*
 * types.h: the portable column types of the language, the rules for
 * converting between them, and the literals each accepts as a default.
 * The per-dialect spelling of a type lives with each dialect's lowering.
 */
#ifndef UPG_COMPILER_TYPES_H
#define UPG_COMPILER_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"
#include "grammar/ast.h"

enum type_kind {
    TY_BOOL,
    TY_INT,
    TY_BIGINT,
    TY_DOUBLE,
    TY_DECIMAL,
    TY_STRING,
    TY_TEXT,
    TY_BYTES,
    TY_DATE,
    TY_TIMESTAMP,
    TY_INTERVAL,
    TY_UUID,
    TY_JSON,
};

struct sm_type {
    enum type_kind kind;
    uint32_t len;       /* string(len) */
    uint16_t precision; /* decimal(precision, scale) */
    uint16_t scale;
};

/* PostgreSQL's limits, which the language adopts for every dialect. */
#define TYPE_MAX_STRING_LEN 10485760u
#define TYPE_MAX_DECIMAL_PRECISION 1000u

/*
 * Resolves a written type. On an unknown name or bad parameters it reports
 * E0401/E0402 to d and returns false (out is then a usable stand-in: text).
 */
bool type_resolve(const struct ast_type *t, struct sm_type *out, struct diag_sink *d);

/* "string(200)", "decimal(18, 2)", "bigint": written into buf (at least 32 bytes). */
const char *type_str(const struct sm_type *t, char *buf, size_t size);

bool type_equal(const struct sm_type *a, const struct sm_type *b);
bool type_is_integer(const struct sm_type *t);

enum type_conv {
    CONV_SAME,   /* nothing changes */
    CONV_WIDEN,  /* every value converts; nothing can fail */
    CONV_NARROW, /* values convert, but some may not fit or parse: the step can fail */
    CONV_NONE,   /* no conversion exists */
};

enum type_conv type_conversion(const struct sm_type *from, const struct sm_type *to);

/* True when PostgreSQL rewrites the whole table for this change of type. */
bool type_pg_rewrites(const struct sm_type *from, const struct sm_type *to);

/*
 * True when a foreign key may link columns of these types: the same type,
 * or both integers, or both strings.
 */
bool type_fk_compatible(const struct sm_type *a, const struct sm_type *b);

/*
 * Checks that lit can be the default of a column of type t. Returns NULL
 * when it can, or a static explanation ("an int needs a whole number").
 */
const char *type_check_literal(const struct sm_type *t, const struct ast_literal *lit);

#endif
