/* SPDX-License-Identifier: MIT */
/*
 * types.h: the portable column types of the language, the rules for
 * converting between them, the constant values of the model (defaults) and
 * which values each type accepts. Part of the model: no AST here (the front
 * end's typeres.c turns written types and literals into these). What a type
 * is called and costs in each database lives with each dialect (dialect.h).
 */
#ifndef UPG_COMPILER_TYPES_H
#define UPG_COMPILER_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

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
#define TY_COUNT (TY_JSON + 1) /* the number of kinds (not one: switches name every kind) */

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
 * A value of the model (a column's default, or the value a new column fills existing rows
 * with), as the plan wrote it and the checker accepted it: a constant, or VAL_EXPR, one of the
 * portable expressions (text: "current_timestamp", "current_date", "random_uuid") that each
 * dialect writes its own way and that the database evaluates on every insert.
 */
enum value_kind { VAL_INT, VAL_DECIMAL, VAL_STRING, VAL_TRUE, VAL_FALSE, VAL_NULL, VAL_EXPR };

struct sm_value {
    enum value_kind kind;
    const char *text; /* digits (with a leading '-' when negative), the string, or the expression */
    size_t len;
};

/* The portable expressions a default may be, and the type each gives. */
struct value_expr {
    const char *name; /* as the plan writes it, and as the model keeps it */
    enum type_kind type;
};
/* The expression called name (ASCII case folded), or NULL. */
const struct value_expr *value_expr_lookup(const char *name);
/* "current_timestamp, current_date and random_uuid()", for help lines. */
const char *value_exprs_text(void);

/* The same kind and text. */
bool value_equal(const struct sm_value *a, const struct sm_value *b);

/* The name of a type kind without parameters ("string", "timestamp"); NULL for TY_COUNT. */
const char *type_kind_name(enum type_kind k);
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

/*
 * True when a foreign key may link columns of these types: the same type,
 * or both integers, or both strings.
 */
bool type_fk_compatible(const struct sm_type *a, const struct sm_type *b);

/*
 * Checks that v can be the default of a column of type t. Returns NULL
 * when it can, or a static explanation ("an int needs a whole number").
 */
const char *type_check_value(const struct sm_type *t, const struct sm_value *v);

#endif
