/* SPDX-License-Identifier: MIT */
/*
 * check.c: the semantic pass. It replays the schema over the version tree
 * (schema.h explains the undo log that keeps this linear) and checks every
 * statement against the schema as it stands at that point of the history:
 * every table, column, index and constraint named must exist; new names
 * must be free; keys and indexes must name existing columns; foreign keys
 * must reference a key with compatible types; type changes must convert;
 * a not-null column added to a table with rows needs a default; a drop
 * must not pull the ground from under an index, a key or a foreign key.
 *
 * It also lints: a change that loses data, rewrites or locks a table on
 * PostgreSQL, rebuilds a table on SQLite, or may fail on existing values
 * is a warning unless the statement says "allow <lint>". A table created
 * in the same version has no rows yet, so changes to it are never linted.
 *
 * It runs after resolve.c even when that pass reported errors (a typo in
 * the dialects should not hide the schema's errors): versions whose base is
 * unknown are marked and skipped.
 *
 * Previous pass: resolve.c (header, dialects, the version tree).
 * Next: the lowerings, which replay the same statements through schema.h.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "core/util.h"
#include "compiler/ir.h"
#include "compiler/plan.h"

enum lint {
    LINT_DATA_LOSS,
    LINT_TABLE_REWRITE,
    LINT_TABLE_LOCK,
    LINT_SQLITE_REBUILD,
    LINT_NARROWING,
    LINT_COUNT
};

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

struct checker {
    struct plan *plan;
    struct arena *arena;
    struct diag_sink *diag;
    struct schema schema;
    struct plan_version *ver;       /* the version being checked */
    const struct ast_stmt *stmt;    /* the statement being checked */
    unsigned allowed;               /* lints the statement allows (bit per enum lint) */
    unsigned used;                  /* allowed lints that did fire */
    struct hmap breaking_ids;       /* id -> struct src_span * of its first use */
};

static void check_expr_names(struct checker *ck, struct sm_table *t, const char *expr,
                             struct src_span at);

/* Pending constraints of a column definition, realised once the column exists. */
struct col_extras {
    const struct ast_colcons *pk, *unique, *fk, *check;
};

static bool
pg(const struct checker *ck)
{
    return plan_has_dialect(ck->plan, DIALECT_POSTGRES);
}

static bool
sqlite(const struct checker *ck)
{
    return plan_has_dialect(ck->plan, DIALECT_SQLITE);
}

/* A table created in an earlier version may hold rows; one created in this version cannot. */
static bool
has_rows(const struct checker *ck, const struct sm_table *t)
{
    return t->born != ck->ver;
}

static const char *
tstr(const struct sm_type *t, char *buf)
{
    return type_str(t, buf, 32);
}

/*
 * Reports a lint finding, unless the statement allows it. The help says
 * how to accept the finding, after an optional explanation.
 */
static void lint(struct checker *ck, enum lint l, struct src_span at, const char *why,
                 const char *fmt, ...) PRINTF(5, 6);

static void
lint(struct checker *ck, enum lint l, struct src_span at, const char *why, const char *fmt, ...)
{
    struct strbuf msg = STRBUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    strbuf_vprintf(&msg, fmt, ap);
    va_end(ap);
    if (ck->plan->record_ir) {
        /* the bundle tells operators about every finding, allowed or not */
        struct plan_finding *f = ARENA_NEW(ck->arena, struct plan_finding);
        struct sm_list *list = &ck->ver->findings;
        f->lint = lints[l].name;
        f->dialect = l == LINT_TABLE_REWRITE || l == LINT_TABLE_LOCK ? "postgres"
                     : l == LINT_SQLITE_REBUILD                       ? "sqlite"
                                                                      : NULL;
        f->message = arena_strdup(ck->arena, strbuf_str(&msg));
        if (list->len == list->cap) {
            size_t ncap = list->cap ? list->cap * 2 : 4;
            void **items = ARENA_ARRAY(ck->arena, void *, ncap);
            if (list->len)
                memcpy(items, list->items, list->len * sizeof *items);
            list->items = items;
            list->cap = ncap;
        }
        list->items[list->len++] = f;
    }
    if (ck->allowed & (1u << l)) {
        ck->used |= 1u << l;
        ck->plan->nallowed++;
        strbuf_free(&msg);
        return;
    }
    if (diag_warning(ck->diag, at, lints[l].code, "%s", strbuf_str(&msg))) {
        if (why)
            diag_note(ck->diag, "%s", why);
        diag_help(ck->diag, "If this is intended, add \"allow %s\" to the statement.",
                  lints[l].name);
    }
    strbuf_free(&msg);
}

/* --- recording the step IR --------------------------------------------- */

/* A snapshot of t before a statement changes it, when the IR is recorded. */
static struct snap_table *
rec_before(struct checker *ck, const struct sm_table *t)
{
    return ck->plan->record_ir ? snap_table(ck->arena, t) : NULL;
}

/*
 * Records an operation of the current version, with the table as it is now
 * (after the statement) when after is not NULL. Returns the operation, or
 * NULL when the IR is not recorded.
 */
static struct ir_op *
rec(struct checker *ck, enum ir_kind kind, const struct ast_stmt *s, struct snap_table *before,
    const struct sm_table *after)
{
    struct ir_op *op;

    if (!ck->plan->record_ir)
        return NULL;
    op = ARENA_NEW(ck->arena, struct ir_op);
    op->kind = kind;
    op->stmt = s;
    op->before = before;
    op->after = after ? snap_table(ck->arena, after) : NULL;
    ir_push(ck->arena, ck->ver->ir, op);
    return op;
}

static const struct snap_index *
snap_index_named(const struct snap_table *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->nindexes; i++)
        if (strcmp(t->indexes[i].name, name) == 0)
            return &t->indexes[i];
    return NULL;
}

/* --- names --------------------------------------------------------------- */

/* PostgreSQL truncates names longer than 63 bytes; refuse them rather than let it. */
static bool
check_name_length(struct checker *ck, const char *name, struct src_span at, const char *what)
{
    size_t n = strlen(name);

    if (!pg(ck) || n <= PG_MAX_IDENT_BYTES)
        return true;
    diag_error(ck->diag, at, "E0501", "%s name \"%.40s...\" is %zu bytes long", what, name, n);
    diag_help(ck->diag, "PostgreSQL truncates names to %d bytes; choose a shorter name.",
              PG_MAX_IDENT_BYTES);
    return false;
}

static const char *
rel_kind_name(const struct sm_rel *rel)
{
    if (rel->kind == REL_TABLE)
        return "table";
    if (rel->kind == REL_INDEX)
        return "index";
    return ((const struct sm_key *)rel->obj)->kind == KEY_PRIMARY ? "primary key"
                                                                    : "unique constraint";
}

static struct src_span
rel_span(const struct sm_rel *rel)
{
    if (rel->kind == REL_TABLE)
        return ((const struct sm_table *)rel->obj)->span;
    if (rel->kind == REL_INDEX)
        return ((const struct sm_index *)rel->obj)->span;
    return ((const struct sm_key *)rel->obj)->span;
}

/*
 * Checks that a new table, index, primary key or unique constraint name is
 * free in the shared namespace (folding case, as SQLite does).
 */
static bool
claim_name(struct checker *ck, const char *name, struct src_span at, const char *what)
{
    const struct sm_rel *rel = schema_rel(&ck->schema, name);
    const char *existing;

    if (!check_name_length(ck, name, at, what))
        return false;
    if (!rel)
        return true;
    existing = schema_rel_name(&ck->schema, name);
    if (strcmp(existing, name) == 0 && strcmp(rel_kind_name(rel), what) == 0)
        diag_error(ck->diag, at, "E0324", "%s \"%s\" already exists", what, name);
    else
        diag_error(ck->diag, at, "E0324", "%s name \"%s\" is already used by %s \"%s\"", what,
                   name, rel_kind_name(rel), existing);
    if (strcmp(existing, name) != 0)
        diag_help(ck->diag, "Names that differ only in case are the same name in SQLite.");
    diag_note_at(ck->diag, rel_span(rel), "\"%s\" is declared here.", existing);
    return false;
}

/* Suggests the closest name of a list of candidates, when one is close. */
struct suggest {
    const char *target;
    const char *best;
    size_t dist;
};

static void
suggest_init(struct suggest *s, const char *target)
{
    s->target = target;
    s->best = NULL;
    s->dist = strlen(target) / 3 + 1;
    if (s->dist > 3)
        s->dist = 3;
}

static void
suggest_try(struct suggest *s, const char *candidate)
{
    size_t d = edit_distance(s->target, candidate, s->dist);

    if (ascii_casecmp(s->target, candidate) == 0)
        d = 0;
    if (d <= s->dist && (!s->best || d < s->dist)) {
        s->best = candidate;
        s->dist = d;
    }
}

static void
suggest_help(struct checker *ck, const struct suggest *s)
{
    if (s->best)
        diag_help(ck->diag, "Did you mean \"%s\"?", s->best);
}

/* Records that a name is gone, for the notes of later lookups. */
static struct sm_gone *
gone(struct checker *ck, const char *kind, const char *name, const char *renamed_to,
     struct src_span at)
{
    struct sm_gone *g = ARENA_NEW(ck->arena, struct sm_gone);

    g->kind = kind;
    g->name = name;
    g->renamed_to = renamed_to;
    g->version = ck->ver->name;
    g->at = at;
    return g;
}

/* "Column "Name" was renamed to "FullName" in version "1.1"." pointing at the rename. */
static void
note_gone(struct checker *ck, const struct sm_gone *g)
{
    char kind[16];

    snprintf(kind, sizeof kind, "%s", g->kind);
    kind[0] = (char)(kind[0] - 'a' + 'A');
    if (g->renamed_to)
        diag_note_at(ck->diag, g->at, "%s \"%s\" was renamed to \"%s\" in version \"%s\".", kind,
                     g->name, g->renamed_to, g->version);
    else
        diag_note_at(ck->diag, g->at, "%s \"%s\" was dropped in version \"%s\".", kind, g->name,
                     g->version);
}

static struct sm_table *
find_table(struct checker *ck, const struct ast_ident *id)
{
    struct sm_table *t = schema_table(&ck->schema, id->name);
    const struct sm_rel *rel;
    struct suggest sg;
    size_t iter = 0;
    const char *key;
    void *value;

    if (t)
        return t;
    rel = schema_rel(&ck->schema, id->name);
    if (!diag_error(ck->diag, id->span, "E0320", "table \"%s\" does not exist in version \"%s\"",
                    id->name, ck->ver->name))
        return NULL;
    if (rel && rel->kind == REL_TABLE) {
        diag_help(ck->diag, "Did you mean \"%s\"? Names are case-sensitive.",
                  schema_rel_name(&ck->schema, id->name));
        return NULL;
    }
    if (rel) {
        diag_note(ck->diag, "\"%s\" is %s %s, not a table.", schema_rel_name(&ck->schema, id->name),
                  rel->kind == REL_INDEX ? "an" : "a", rel_kind_name(rel));
        return NULL;
    }
    if (schema_gone(&ck->schema, id->name)) {
        note_gone(ck, schema_gone(&ck->schema, id->name));
        return NULL;
    }
    suggest_init(&sg, id->name);
    while (hmap_next(&ck->schema.rels, &iter, &key, &value))
        if (((struct sm_rel *)value)->kind == REL_TABLE)
            suggest_try(&sg, key);
    suggest_help(ck, &sg);
    return NULL;
}

static struct sm_column *
find_column(struct checker *ck, struct sm_table *t, const struct ast_ident *id)
{
    struct sm_column *c = table_column(t, id->name);
    struct suggest sg;
    size_t i;

    if (c)
        return c;
    if (!diag_error(ck->diag, id->span, "E0321", "table \"%s\" has no column \"%s\"", t->name,
                    id->name))
        return NULL;
    if (table_column_gone(t, id->name)) {
        note_gone(ck, table_column_gone(t, id->name));
        return NULL;
    }
    suggest_init(&sg, id->name);
    for (i = 0; i < t->cols.len; i++)
        suggest_try(&sg, ((struct sm_column *)t->cols.items[i])->name);
    suggest_help(ck, &sg);
    return NULL;
}

/*
 * Resolves a list of column names of table t: each must exist, none may
 * repeat. Returns an arena array, or NULL after reporting.
 */
static struct sm_column **
find_columns(struct checker *ck, struct sm_table *t, const ast_ident_list *names)
{
    struct sm_column **cols = ARENA_ARRAY(ck->arena, struct sm_column *, names->len + 1);
    bool ok = true;
    size_t i, j;

    for (i = 0; i < names->len; i++) {
        cols[i] = find_column(ck, t, &names->items[i]);
        if (!cols[i]) {
            ok = false;
            continue;
        }
        for (j = 0; j < i; j++) {
            if (cols[j] == cols[i]) {
                diag_error(ck->diag, names->items[i].span, "E0327",
                           "column \"%s\" is listed twice", names->items[i].name);
                ok = false;
            }
        }
    }
    return ok ? cols : NULL;
}

/* --- keys ---------------------------------------------------------------- */

static bool
same_set(struct sm_column *const *a, size_t na, struct sm_column *const *b, size_t nb)
{
    size_t i;

    if (na != nb)
        return false;
    for (i = 0; i < na; i++)
        if (!cols_contain(b, nb, a[i]))
            return false;
    return true;
}

/*
 * True when cols (as a set) are the primary key, a unique constraint or a
 * unique index of t, other than `except` (a key or index about to go).
 */
static bool
is_unique_set(const struct sm_table *t, struct sm_column *const *cols, size_t n,
              const void *except)
{
    size_t i;

    if (t->pk && t->pk != except && same_set(t->pk->cols, t->pk->ncols, cols, n))
        return true;
    for (i = 0; i < t->keys.len; i++) {
        const struct sm_key *k = t->keys.items[i];
        if (k != except && k->kind == KEY_UNIQUE && same_set(k->cols, k->ncols, cols, n))
            return true;
    }
    for (i = 0; i < t->indexes.len; i++) {
        const struct sm_index *ix = t->indexes.items[i];
        if (ix != except && ix->unique && same_set(ix->cols, ix->ncols, cols, n))
            return true;
    }
    return false;
}

/*
 * Before a key or unique index of t goes: reports E0413 for each foreign key
 * that references exactly its columns with nothing else unique to lean on.
 */
static bool
check_fk_dependents(struct checker *ck, const struct sm_table *t, struct sm_column *const *cols,
                    size_t n, const void *going, struct src_span at, const char *what,
                    const char *name)
{
    size_t i;

    for (i = 0; i < t->incoming.len; i++) {
        const struct sm_key *fk = t->incoming.items[i];
        if (fk->table == t && fk == going)
            continue;
        if (!same_set(fk->ref_cols, fk->nref, cols, n) ||
            is_unique_set(t, fk->ref_cols, fk->nref, going))
            continue;
        diag_error(ck->diag, at, "E0413", "%s \"%s\" is needed by foreign key \"%s\" of table \"%s\"",
                   what, name, fk->name, fk->table->name);
        diag_help(ck->diag, "Drop the foreign key first: alter table %s drop constraint %s;",
                  fk->table->name, fk->name);
        return false;
    }
    return true;
}

static char *
join_cols(struct checker *ck, struct sm_column *const *cols, size_t n)
{
    struct strbuf sb = STRBUF_INIT;
    char *s;
    size_t i;

    for (i = 0; i < n; i++)
        strbuf_printf(&sb, "_%s", cols[i]->name);
    s = arena_strdup(ck->arena, strbuf_str(&sb));
    strbuf_free(&sb);
    return s;
}

/* The name of a key: given, or derived the way Entity Framework names them. */
static const char *
key_name(struct checker *ck, struct sm_key *k, const struct ast_ident *given)
{
    if (given && given->name) {
        k->name_given = true;
        return given->name;
    }
    switch (k->kind) {
    case KEY_PRIMARY:
        return arena_printf(ck->arena, "PK_%s", k->table->name);
    case KEY_UNIQUE:
        return arena_printf(ck->arena, "UQ_%s%s", k->table->name, join_cols(ck, k->cols, k->ncols));
    case KEY_FOREIGN:
        return arena_printf(ck->arena, "FK_%s_%s%s", k->table->name, k->ref_table->name,
                            join_cols(ck, k->cols, k->ncols));
    case KEY_CHECK: {
        unsigned n;
        if (k->ncols == 1)
            return arena_printf(ck->arena, "CK_%s_%s", k->table->name, k->cols[0]->name);
        for (n = 1;; n++) {
            const char *name = arena_printf(ck->arena, "CK_%s_%u", k->table->name, n);
            if (!table_key(k->table, name))
                return name;
        }
    }
    }
    return "?";
}

/*
 * Names a new key and registers it with its table. PK and unique names
 * share the relation namespace; foreign key and check names are per table.
 */
static bool
add_key(struct checker *ck, struct sm_table *t, struct sm_key *k, const struct ast_ident *given)
{
    static const char *const what[] = {"primary key", "unique constraint", "foreign key",
                                       "check constraint"};
    struct src_span at = given && given->name ? given->span : k->span;

    k->table = t;
    k->name = key_name(ck, k, given);
    if (k->kind == KEY_PRIMARY || k->kind == KEY_UNIQUE) {
        if (!claim_name(ck, k->name, at, what[k->kind])) {
            if (!k->name_given)
                diag_help(ck->diag, "Give the constraint a name of its own.");
            return false;
        }
    } else {
        const struct sm_key *other = table_key(t, k->name);
        if (!check_name_length(ck, k->name, at, what[k->kind])) {
            if (!k->name_given)
                diag_help(ck->diag, "The name is derived; name the constraint with the table-level "
                                    "form: foreign key NAME (columns) references ...");
            return false;
        }
        if (other) {
            diag_error(ck->diag, at, "E0326", "table \"%s\" already has a constraint named \"%s\"",
                       t->name, other->name);
            diag_note_at(ck->diag, other->span, "\"%s\" is declared here.", other->name);
            return false;
        }
    }
    if (k->kind == KEY_PRIMARY)
        schema_set_pk(&ck->schema, t, k);
    else
        schema_add_key(&ck->schema, t, k);
    return true;
}

static struct sm_key *
new_key(struct checker *ck, enum sm_key_kind kind, struct sm_table *t, struct sm_column **cols,
        size_t n, struct src_span span)
{
    struct sm_key *k = ARENA_NEW(ck->arena, struct sm_key);

    k->kind = kind;
    k->table = t;
    k->cols = cols;
    k->ncols = n;
    k->span = span;
    return k;
}

/*
 * Completes a foreign key of table t: the referenced table and columns
 * (its primary key when none are named), their number and types, that they
 * form a key, and that ON DELETE SET NULL has nullable columns to set.
 */
static bool
resolve_fk(struct checker *ck, struct sm_key *k, struct sm_table *t, const struct ast_ident *ref,
           const ast_ident_list *ref_cols, enum ast_fk_action on_delete)
{
    struct sm_table *rt = strcmp(ref->name, t->name) == 0 ? t : find_table(ck, ref);
    char b1[32], b2[32];
    size_t i;

    if (!rt)
        return false;
    k->ref_table = rt;
    k->on_delete = on_delete;
    if (ref_cols->len) {
        k->ref_cols = find_columns(ck, rt, ref_cols);
        if (!k->ref_cols)
            return false;
        k->nref = ref_cols->len;
    } else if (rt->pk) {
        k->ref_cols = rt->pk->cols;
        k->nref = rt->pk->ncols;
    } else {
        diag_error(ck->diag, ref->span, "E0410",
                   "table \"%s\" has no primary key for the foreign key to reference", rt->name);
        diag_help(ck->diag, "Name the referenced columns: references %s (column).", rt->name);
        return false;
    }
    if (k->nref != k->ncols) {
        diag_error(ck->diag, k->span, "E0408",
                   "foreign key has %zu column%s but references %zu", k->ncols,
                   k->ncols == 1 ? "" : "s", k->nref);
        return false;
    }
    for (i = 0; i < k->ncols; i++) {
        if (!type_fk_compatible(&k->cols[i]->type, &k->ref_cols[i]->type)) {
            diag_error(ck->diag, k->span, "E0409",
                       "foreign key column \"%s\" (%s) does not match referenced column \"%s\".\"%s\" (%s)",
                       k->cols[i]->name, tstr(&k->cols[i]->type, b1), rt->name,
                       k->ref_cols[i]->name, tstr(&k->ref_cols[i]->type, b2));
            diag_help(ck->diag, "Give both columns the same type.");
            return false;
        }
    }
    if (!is_unique_set(rt, k->ref_cols, k->nref, NULL)) {
        diag_error(ck->diag, ref->span, "E0407",
                   "foreign key references columns of \"%s\" that are not a key", rt->name);
        diag_help(ck->diag, "Reference the primary key, or add a unique constraint on the "
                            "referenced columns first.");
        return false;
    }
    if (on_delete == FK_ACTION_SET_NULL) {
        for (i = 0; i < k->ncols; i++) {
            if (k->cols[i]->not_null) {
                diag_error(ck->diag, k->span, "E0415",
                           "on delete set null needs nullable columns, but \"%s\" is not null",
                           k->cols[i]->name);
                return false;
            }
        }
    }
    return true;
}

/* --- columns ------------------------------------------------------------- */

/*
 * Builds a column from its definition. Column constraints that are keys
 * (primary key, unique, references, check) go to *ex to be added once the
 * column belongs to its table. Returns NULL only when the column is
 * unusable (never: errors are reported and a best-effort column returned).
 */
static struct sm_column *
build_column(struct checker *ck, const struct ast_column *ac, struct col_extras *ex)
{
    struct sm_column *c = ARENA_NEW(ck->arena, struct sm_column);
    const struct ast_colcons *not_null = NULL, *null = NULL, *identity = NULL, *dflt = NULL;
    size_t i;

    memset(ex, 0, sizeof *ex);
    c->name = ac->name.name;
    c->span = ac->name.span;
    check_name_length(ck, c->name, ac->name.span, "column");
    type_resolve(&ac->type, &c->type, ck->diag);
    for (i = 0; i < ac->cons.len; i++) {
        const struct ast_colcons *cc = ac->cons.items[i];
        const struct ast_colcons **slot = NULL;
        static const char *const names[] = {"not null", "null",    "primary key", "unique",
                                            "identity", "default", "references",  "check"};
        switch (cc->kind) {
        case CC_NOT_NULL:
            slot = &not_null;
            break;
        case CC_NULL:
            slot = &null;
            break;
        case CC_PRIMARY_KEY:
            slot = &ex->pk;
            break;
        case CC_UNIQUE:
            slot = &ex->unique;
            break;
        case CC_IDENTITY:
            slot = &identity;
            break;
        case CC_DEFAULT:
            slot = &dflt;
            break;
        case CC_REFERENCES:
            slot = &ex->fk;
            break;
        case CC_CHECK:
            slot = &ex->check;
            break;
        }
        if (*slot) {
            diag_error(ck->diag, cc->span, "E0403", "column \"%s\" says %s twice", c->name,
                       names[cc->kind]);
            continue;
        }
        *slot = cc;
    }
    if (not_null && null) {
        diag_error(ck->diag, null->span, "E0403", "column \"%s\" is declared both null and not null",
                   c->name);
        null = NULL;
    }
    if (null && (ex->pk || identity)) {
        diag_error(ck->diag, null->span, "E0403", "%s column \"%s\" cannot be null",
                   ex->pk ? "primary key" : "identity", c->name);
        null = NULL;
    }
    if (identity) {
        char b[32];
        if (!type_is_integer(&c->type))
            diag_error(ck->diag, identity->span, "E0403",
                       "identity column \"%s\" must be int or bigint, not %s", c->name,
                       tstr(&c->type, b));
        if (dflt) {
            diag_error(ck->diag, dflt->span, "E0403", "identity column \"%s\" cannot have a default",
                       c->name);
            diag_note(ck->diag, "The database generates its values.");
            dflt = NULL;
        }
        c->identity = true;
    }
    c->not_null = not_null || ex->pk || identity;
    if (dflt) {
        const char *why = type_check_literal(&c->type, dflt->dflt);
        char b[32];
        if (why) {
            diag_error(ck->diag, dflt->dflt->span, "E0404",
                       "default of column \"%s\" does not fit its type %s", c->name,
                       tstr(&c->type, b));
            diag_note(ck->diag, "%c%s.", why[0] - 'a' + 'A', why + 1);
        } else if (dflt->dflt->kind == LIT_NULL && c->not_null) {
            diag_error(ck->diag, dflt->dflt->span, "E0404",
                       "column \"%s\" is not null but its default is null", c->name);
        } else if (dflt->dflt->kind != LIT_NULL) {
            c->dflt = dflt->dflt;
        }
    }
    return c;
}

/* Reports E0325 when t already has a column of that name (folding case). */
static bool
column_name_free(struct checker *ck, struct sm_table *t, const char *name, struct src_span at,
                 const struct sm_column *except)
{
    struct sm_column *other = table_column_fold(t, name);

    if (!other || other == except)
        return true;
    if (strcmp(other->name, name) == 0)
        diag_error(ck->diag, at, "E0325", "table \"%s\" already has a column \"%s\"", t->name, name);
    else
        diag_error(ck->diag, at, "E0325",
                   "column \"%s\" differs from column \"%s\" of table \"%s\" only in case", name,
                   other->name, t->name);
    diag_note_at(ck->diag, other->span, "\"%s\" is declared here.", other->name);
    return false;
}

/* The single-column keys of a column definition, once the column is in t. */
static void
add_column_keys(struct checker *ck, struct sm_table *t, struct sm_column *c,
                const struct col_extras *ex)
{
    struct sm_column **one = ARENA_ARRAY(ck->arena, struct sm_column *, 1);

    one[0] = c;
    if (ex->pk) {
        if (t->pk) {
            diag_error(ck->diag, ex->pk->span, "E0329", "table \"%s\" already has a primary key",
                       t->name);
            diag_note_at(ck->diag, t->pk->span, "The primary key is declared here.");
        } else {
            add_key(ck, t, new_key(ck, KEY_PRIMARY, t, one, 1, ex->pk->span), NULL);
        }
    }
    if (ex->unique)
        add_key(ck, t, new_key(ck, KEY_UNIQUE, t, one, 1, ex->unique->span), NULL);
    if (ex->fk) {
        struct sm_key *k = new_key(ck, KEY_FOREIGN, t, one, 1, ex->fk->span);
        if (resolve_fk(ck, k, t, &ex->fk->ref_table, &ex->fk->ref_cols, ex->fk->on_delete))
            add_key(ck, t, k, NULL);
    }
    if (ex->check) {
        struct sm_key *k = new_key(ck, KEY_CHECK, t, one, 1, ex->check->span);
        k->expr = ex->check->expr.text;
        check_expr_names(ck, t, k->expr, ex->check->expr.span);
        add_key(ck, t, k, NULL);
    }
}

/*
 * SQLite has identity only as the rowid alias, "INTEGER PRIMARY KEY": an
 * identity column must be the table's whole primary key. One per table.
 */
static void
check_identity(struct checker *ck, struct sm_table *t, struct src_span at)
{
    const struct sm_column *seen = NULL;
    size_t i;

    for (i = 0; i < t->cols.len; i++) {
        const struct sm_column *c = t->cols.items[i];
        if (!c->identity)
            continue;
        if (seen) {
            diag_error(ck->diag, c->span, "E0403", "table \"%s\" has a second identity column \"%s\"",
                       t->name, c->name);
            diag_note_at(ck->diag, seen->span, "\"%s\" is an identity column too.", seen->name);
            continue;
        }
        seen = c;
        if (sqlite(ck) && !(t->pk && t->pk->ncols == 1 && t->pk->cols[0] == c)) {
            diag_error(ck->diag, at.file ? at : c->span, "E0505",
                       "identity column \"%s\" must be the whole primary key of \"%s\" on SQLite",
                       c->name, t->name);
            if (at.file) {
                diag_help(ck->diag, "SQLite generates values only for the INTEGER PRIMARY KEY: keep "
                                    "\"%s\" the whole primary key, or drop the column first.",
                          c->name);
                diag_note_at(ck->diag, c->span, "\"%s\" is declared here.", c->name);
            } else {
                diag_help(ck->diag, "Declare it \"%s %s identity primary key\"; SQLite generates "
                                    "values only for an INTEGER PRIMARY KEY.",
                          c->name, c->type.kind == TY_INT ? "int" : "bigint");
            }
        }
    }
}

/* --- statements ---------------------------------------------------------- */

/*
 * A check expression is the author's SQL, not parsed; but one mistake is
 * common enough to look for: a mixed-case column written without quotes,
 * which PostgreSQL folds to lower case and then cannot find. Scans the
 * expression's bare words (outside strings, quoted names and comments).
 */
static void
check_expr_names(struct checker *ck, struct sm_table *t, const char *expr, struct src_span at)
{
    const char *p = expr;

    if (!pg(ck) || !expr)
        return;
    while (*p) {
        if (*p == '\'' || *p == '"') {
            char q = *p++;
            while (*p && *p != q)
                p++;
            if (*p)
                p++;
            continue;
        }
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_') {
            const char *w = p;
            char word[64];
            size_t n, i;
            bool lower = true;
            while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_' ||
                   (*p >= '0' && *p <= '9'))
                p++;
            n = (size_t)(p - w);
            if (n >= sizeof word)
                continue;
            memcpy(word, w, n);
            word[n] = '\0';
            for (i = 0; i < t->cols.len; i++) {
                const struct sm_column *c = t->cols.items[i];
                const char *k;
                if (ascii_casecmp(c->name, word) != 0)
                    continue;
                for (k = c->name; *k; k++)
                    lower = lower && !(*k >= 'A' && *k <= 'Z');
                if (lower)
                    break; /* PostgreSQL's folding finds an all-lower-case column */
                {
                    char folded[64];
                    for (i = 0; i <= n; i++)
                        folded[i] = ascii_lower(word[i]);
                    if (diag_error(ck->diag, at, "E0506",
                                   "check names column \"%s\" without quotes, which PostgreSQL "
                                   "reads as \"%s\"",
                                   c->name, folded))
                        diag_help(ck->diag, "PostgreSQL folds unquoted names to lower case: quote "
                                            "the name, as in $$\"%s\" > 0$$.",
                                  c->name);
                }
                return;
            }
            continue;
        }
        p++;
    }
}

static struct sm_key *
table_constraint(struct checker *ck, struct sm_table *t, const struct ast_tcons *tc)
{
    static const enum sm_key_kind kinds[] = {KEY_PRIMARY, KEY_UNIQUE, KEY_FOREIGN, KEY_CHECK};
    struct sm_column **cols = NULL;
    struct sm_key *k;

    if (tc->kind != TC_CHECK) {
        cols = find_columns(ck, t, &tc->cols);
        if (!cols)
            return NULL;
    }
    k = new_key(ck, kinds[tc->kind], t, cols, tc->cols.len, tc->span);
    if (tc->kind == TC_PRIMARY_KEY && t->pk) {
        diag_error(ck->diag, tc->span, "E0329", "table \"%s\" already has a primary key", t->name);
        diag_note_at(ck->diag, t->pk->span, "The primary key is declared here.");
        return NULL;
    }
    if (tc->kind == TC_FOREIGN_KEY &&
        !resolve_fk(ck, k, t, &tc->ref_table, &tc->ref_cols, tc->on_delete))
        return NULL;
    if (tc->kind == TC_CHECK) {
        k->expr = tc->expr.text;
        check_expr_names(ck, t, k->expr, tc->expr.span);
    }
    return add_key(ck, t, k, &tc->name) ? k : NULL;
}

static void
stmt_create_table(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t;
    struct col_extras *ex;
    struct sm_column **built;
    size_t i;

    if (!claim_name(ck, s->table.name, s->table.span, "table"))
        return;
    t = ARENA_NEW(ck->arena, struct sm_table);
    t->name = s->table.name;
    t->span = s->table.span;
    t->born = ck->ver;
    schema_add_table(&ck->schema, t);
    /* Columns first, so that every constraint may name any of them. */
    ex = ARENA_ARRAY(ck->arena, struct col_extras, s->elems.len + 1);
    built = ARENA_ARRAY(ck->arena, struct sm_column *, s->elems.len + 1);
    for (i = 0; i < s->elems.len; i++) {
        const struct ast_column *ac = s->elems.items[i];
        struct sm_column *c;
        if (!s->elem_is_column.items[i])
            continue;
        c = build_column(ck, ac, &ex[i]);
        if (!column_name_free(ck, t, c->name, ac->name.span, NULL))
            continue;
        schema_add_column(&ck->schema, t, c, t->cols.len);
        built[i] = c;
    }
    if (t->cols.len == 0) {
        diag_error(ck->diag, s->table.span, "E0416", "table \"%s\" has no columns", t->name);
        return;
    }
    for (i = 0; i < s->elems.len; i++)
        if (built[i])
            add_column_keys(ck, t, built[i], &ex[i]);
    for (i = 0; i < s->elems.len; i++)
        if (!s->elem_is_column.items[i])
            table_constraint(ck, t, s->elems.items[i]);
    check_identity(ck, t, (struct src_span){0, 0, 0});
    rec(ck, IR_CREATE_TABLE, s, NULL, t);
}

static void
stmt_drop_table(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct ir_op *op;
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->incoming.len; i++) {
        const struct sm_key *fk = t->incoming.items[i];
        if (fk->table == t)
            continue;
        diag_error(ck->diag, s->table.span, "E0412",
                   "table \"%s\" is referenced by foreign key \"%s\" of table \"%s\"", t->name,
                   fk->name, fk->table->name);
        diag_help(ck->diag, "Drop the foreign key first: alter table %s drop constraint %s;",
                  fk->table->name, fk->name);
        return;
    }
    if (has_rows(ck, t))
        lint(ck, LINT_DATA_LOSS, s->span,
             "Its down-step re-creates the table empty: the rows cannot come back.",
             "dropping table \"%s\" deletes its rows", t->name);
    op = rec(ck, IR_DROP_TABLE, s, rec_before(ck, t), NULL);
    if (op)
        op->lossy = has_rows(ck, t); /* a table made in this step held nothing to lose */
    schema_drop_table(&ck->schema, t);
    schema_mark_gone(&ck->schema, gone(ck, "table", t->name, NULL, s->span));
}

static void
stmt_rename_table(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct snap_table *before;
    const char *old;

    if (!t)
        return;
    if (strcmp(t->name, s->name.name) == 0) {
        diag_warning(ck->diag, s->name.span, "W0404", "table \"%s\" already has this name", t->name);
        return;
    }
    if (ascii_casecmp(t->name, s->name.name) != 0 &&
        !claim_name(ck, s->name.name, s->name.span, "table"))
        return;
    if (!check_name_length(ck, s->name.name, s->name.span, "table"))
        return;
    old = t->name;
    before = rec_before(ck, t);
    schema_rename_table(&ck->schema, t, s->name.name);
    rec(ck, IR_RENAME_TABLE, s, before, t);
    schema_mark_gone(&ck->schema, gone(ck, "table", old, s->name.name, s->span));
}

static void
stmt_add_column(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct snap_table *before;
    struct col_extras ex;
    struct sm_column *c;
    struct ir_op *op;

    if (!t)
        return;
    c = build_column(ck, s->column, &ex);
    if (!column_name_free(ck, t, c->name, s->column->name.span, NULL))
        return;
    if (has_rows(ck, t)) {
        if (c->not_null && !c->dflt && !c->identity) {
            diag_error(ck->diag, s->column->name.span, "E0405",
                       "not null column \"%s\" is added to table \"%s\" without a default", c->name,
                       t->name);
            diag_note(ck->diag, "The rows the table already holds need a value for it.");
            diag_help(ck->diag, "Give it a default, or add it nullable, fill it with a sql block, "
                                "then set not null.");
        }
        if (c->identity && pg(ck))
            lint(ck, LINT_TABLE_REWRITE, s->span,
                 "Every existing row gets a generated value, under an exclusive lock.",
                 "adding identity column \"%s\" rewrites table \"%s\" on PostgreSQL", c->name,
                 t->name);
        if ((ex.pk || ex.unique || ex.check) && pg(ck))
            lint(ck, LINT_TABLE_LOCK, s->span, "Writes wait until the table has been checked.",
                 "adding column \"%s\" with a %s scans table \"%s\" under a lock on PostgreSQL",
                 c->name, ex.pk ? "primary key" : ex.unique ? "unique constraint" : "check",
                 t->name);
        if ((c->identity || ex.pk || (ex.fk && c->dflt)) && sqlite(ck))
            lint(ck, LINT_SQLITE_REBUILD, s->span,
                 "SQLite's ALTER TABLE cannot add such a column: the table is copied row by row.",
                 "adding column \"%s\" rebuilds table \"%s\" on SQLite", c->name, t->name);
    }
    before = rec_before(ck, t);
    schema_add_column(&ck->schema, t, c, t->cols.len);
    add_column_keys(ck, t, c, &ex);
    if (c->identity)
        check_identity(ck, t, (struct src_span){0, 0, 0});
    if ((op = rec(ck, IR_ADD_COLUMN, s, before, t)))
        op->col = c;
}

/* Reports E0411 when something still uses column c; true when nothing does. */
static bool
column_unused(struct checker *ck, struct sm_table *t, struct sm_column *c, struct src_span at)
{
    size_t i;

    if (t->pk && cols_contain(t->pk->cols, t->pk->ncols, c)) {
        diag_error(ck->diag, at, "E0411", "column \"%s\" is part of the primary key of \"%s\"",
                   c->name, t->name);
        diag_help(ck->diag, "Drop the primary key first: alter table %s drop primary key;",
                  t->name);
        return false;
    }
    for (i = 0; i < t->keys.len; i++) {
        const struct sm_key *k = t->keys.items[i];
        if (k->cols && cols_contain(k->cols, k->ncols, c)) {
            diag_error(ck->diag, at, "E0411", "column \"%s\" is used by constraint \"%s\"", c->name,
                       k->name);
            diag_help(ck->diag, "Drop the constraint first: alter table %s drop constraint %s;",
                      t->name, k->name);
            return false;
        }
    }
    for (i = 0; i < t->indexes.len; i++) {
        const struct sm_index *ix = t->indexes.items[i];
        if (cols_contain(ix->cols, ix->ncols, c)) {
            diag_error(ck->diag, at, "E0411", "column \"%s\" is used by index \"%s\"", c->name,
                       ix->name);
            diag_help(ck->diag, "Drop the index first: drop index %s;", ix->name);
            return false;
        }
    }
    for (i = 0; i < t->incoming.len; i++) {
        const struct sm_key *fk = t->incoming.items[i];
        if (cols_contain(fk->ref_cols, fk->nref, c)) {
            diag_error(ck->diag, at, "E0411",
                       "column \"%s\" is referenced by foreign key \"%s\" of table \"%s\"", c->name,
                       fk->name, fk->table->name);
            diag_help(ck->diag, "Drop the foreign key first.");
            return false;
        }
    }
    return true;
}

static void
stmt_drop_column(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct snap_table *before;
    struct sm_column *c;
    struct ir_op *op;

    if (!t || !(c = find_column(ck, t, &s->name)))
        return;
    if (!column_unused(ck, t, c, s->name.span))
        return;
    if (t->cols.len == 1) {
        diag_error(ck->diag, s->name.span, "E0416", "column \"%s\" is the last column of \"%s\"",
                   c->name, t->name);
        diag_help(ck->diag, "Drop the table instead.");
        return;
    }
    if (has_rows(ck, t))
        lint(ck, LINT_DATA_LOSS, s->span,
             "Its down-step adds the column back empty: the values cannot come back.",
             "dropping column \"%s\" of table \"%s\" deletes its values", c->name, t->name);
    before = rec_before(ck, t);
    schema_drop_column(&ck->schema, t, c);
    if ((op = rec(ck, IR_DROP_COLUMN, s, before, t))) {
        op->col = c;
        op->lossy = has_rows(ck, t);
    }
    schema_mark_column_gone(&ck->schema, t, gone(ck, "column", c->name, NULL, s->span));
}

static void
stmt_rename_column(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct snap_table *before;
    struct sm_column *c, now;
    struct ir_op *op;

    if (!t || !(c = find_column(ck, t, &s->name)))
        return;
    if (strcmp(c->name, s->new_name.name) == 0) {
        diag_warning(ck->diag, s->new_name.span, "W0404", "column \"%s\" already has this name",
                     c->name);
        return;
    }
    if (!column_name_free(ck, t, s->new_name.name, s->new_name.span, c) ||
        !check_name_length(ck, s->new_name.name, s->new_name.span, "column"))
        return;
    now = *c;
    now.name = s->new_name.name;
    before = rec_before(ck, t);
    schema_set_column(&ck->schema, c, &now);
    if ((op = rec(ck, IR_RENAME_COLUMN, s, before, t)))
        op->col = c;
    schema_mark_column_gone(&ck->schema, t, gone(ck, "column", s->name.name, now.name, s->span));
}

/* Changes column c of t to `now` (type, nullability or default) and records it. */
static void
alter_column(struct checker *ck, const struct ast_stmt *s, struct sm_table *t, struct sm_column *c,
             const struct sm_column *now)
{
    struct snap_table *before = rec_before(ck, t);
    struct ir_op *op;

    schema_set_column(&ck->schema, c, now);
    if ((op = rec(ck, IR_ALTER_COLUMN, s, before, t)))
        op->col = c;
}

/* A foreign key still pairs compatible types after column c becomes type `to`. */
static bool
fk_types_hold(struct checker *ck, struct sm_table *t, struct sm_column *c, const struct sm_type *to,
              struct src_span at)
{
    char b1[32], b2[32];
    size_t i, j;

    for (i = 0; i < t->keys.len; i++) {
        const struct sm_key *k = t->keys.items[i];
        if (k->kind != KEY_FOREIGN)
            continue;
        for (j = 0; j < k->ncols; j++) {
            if (k->cols[j] == c && !type_fk_compatible(to, &k->ref_cols[j]->type)) {
                diag_error(ck->diag, at, "E0409",
                           "column \"%s\" as %s would not match \"%s\".\"%s\" (%s) of foreign key \"%s\"",
                           c->name, tstr(to, b1), k->ref_table->name, k->ref_cols[j]->name,
                           tstr(&k->ref_cols[j]->type, b2), k->name);
                return false;
            }
        }
    }
    for (i = 0; i < t->incoming.len; i++) {
        const struct sm_key *k = t->incoming.items[i];
        for (j = 0; j < k->nref; j++) {
            if (k->ref_cols[j] == c && !type_fk_compatible(to, &k->cols[j]->type)) {
                diag_error(ck->diag, at, "E0409",
                           "column \"%s\" as %s would not match \"%s\".\"%s\" (%s), which references it",
                           c->name, tstr(to, b1), k->table->name, k->cols[j]->name,
                           tstr(&k->cols[j]->type, b2));
                return false;
            }
        }
    }
    return true;
}

static void
stmt_alter_type(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct sm_column *c, now;
    struct sm_type to;
    enum type_conv conv;
    char b1[32], b2[32];

    if (!t || !(c = find_column(ck, t, &s->name)))
        return;
    if (!type_resolve(s->type, &to, ck->diag))
        return;
    conv = type_conversion(&c->type, &to);
    if (conv == CONV_SAME) {
        diag_warning(ck->diag, s->type->span, "W0404", "column \"%s\" already has type %s", c->name,
                     tstr(&to, b1));
        return;
    }
    if (conv == CONV_NONE) {
        diag_error(ck->diag, s->type->span, "E0406", "column \"%s\" cannot change from %s to %s",
                   c->name, tstr(&c->type, b1), tstr(&to, b2));
        diag_help(ck->diag, "Add a new column, copy the data with a sql block, then drop the old "
                            "column.");
        return;
    }
    if (c->identity && !type_is_integer(&to)) {
        diag_error(ck->diag, s->type->span, "E0406",
                   "identity column \"%s\" must stay int or bigint", c->name);
        return;
    }
    if (c->dflt && type_check_literal(&to, c->dflt)) {
        diag_error(ck->diag, s->type->span, "E0404",
                   "the default of column \"%s\" does not fit type %s", c->name, tstr(&to, b1));
        diag_help(ck->diag, "Drop the default first.");
        return;
    }
    if (!fk_types_hold(ck, t, c, &to, s->type->span))
        return;
    if (has_rows(ck, t)) {
        if (conv == CONV_NARROW)
            lint(ck, LINT_NARROWING, s->span,
                 "The step fails, and is rolled back, if an existing value does not convert.",
                 "changing column \"%s\" from %s to %s may fail on existing values", c->name,
                 tstr(&c->type, b1), tstr(&to, b2));
        if (pg(ck) && type_pg_rewrites(&c->type, &to))
            lint(ck, LINT_TABLE_REWRITE, s->span,
                 "The table is locked against reads and writes while it is rewritten; on a large "
                 "table, plan for downtime.",
                 "changing column \"%s\" from %s to %s rewrites table \"%s\" on PostgreSQL",
                 c->name, tstr(&c->type, b1), tstr(&to, b2), t->name);
        if (sqlite(ck))
            lint(ck, LINT_SQLITE_REBUILD, s->span,
                 "SQLite cannot change a column's type in place: the table is copied row by row.",
                 "changing the type of column \"%s\" rebuilds table \"%s\" on SQLite", c->name,
                 t->name);
    }
    now = *c;
    now.type = to;
    alter_column(ck, s, t, c, &now);
}

static void
rebuild_lint(struct checker *ck, const struct ast_stmt *s, const struct sm_table *t,
             const char *what)
{
    if (has_rows(ck, t) && sqlite(ck))
        lint(ck, LINT_SQLITE_REBUILD, s->span,
             "SQLite's ALTER TABLE cannot do this: the table is copied row by row.",
             "%s rebuilds table \"%s\" on SQLite", what, t->name);
}

static void
stmt_nullability(struct checker *ck, const struct ast_stmt *s, bool set)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct sm_column *c, now;
    char what[160];

    if (!t || !(c = find_column(ck, t, &s->name)))
        return;
    if (c->not_null == set) {
        diag_warning(ck->diag, s->span, "W0404", "column \"%s\" is already %s", c->name,
                     set ? "not null" : "nullable");
        return;
    }
    if (!set && ((t->pk && cols_contain(t->pk->cols, t->pk->ncols, c)) || c->identity)) {
        diag_error(ck->diag, s->name.span, "E0414", "column \"%s\" is %s and must stay not null",
                   c->name, c->identity ? "an identity column" : "in the primary key");
        return;
    }
    if (set && has_rows(ck, t) && pg(ck))
        lint(ck, LINT_TABLE_LOCK, s->span,
             "The step fails, and is rolled back, if a row holds null.",
             "set not null scans table \"%s\" under an exclusive lock on PostgreSQL", t->name);
    snprintf(what, sizeof what, "%s not null on column \"%.60s\"", set ? "setting" : "dropping",
             c->name);
    rebuild_lint(ck, s, t, what);
    now = *c;
    now.not_null = set;
    alter_column(ck, s, t, c, &now);
}

static bool
same_literal(const struct ast_literal *a, const struct ast_literal *b)
{
    if (!a || !b)
        return a == b;
    return a->kind == b->kind && a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

static void
stmt_default(struct checker *ck, const struct ast_stmt *s, const struct ast_literal *lit)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct sm_column *c, now;
    char what[160], b[32];

    if (!t || !(c = find_column(ck, t, &s->name)))
        return;
    if (c->identity) {
        diag_error(ck->diag, s->name.span, "E0414", "identity column \"%s\" has no default to %s",
                   c->name, lit ? "set" : "drop");
        diag_note(ck->diag, "The database generates its values.");
        return;
    }
    if (lit && lit->kind == LIT_NULL) {
        if (c->not_null) {
            diag_error(ck->diag, lit->span, "E0404", "column \"%s\" is not null but its default is null",
                       c->name);
            return;
        }
        lit = NULL; /* "set default null" is "drop default" */
    }
    if (lit) {
        const char *why = type_check_literal(&c->type, lit);
        if (why) {
            diag_error(ck->diag, lit->span, "E0404",
                       "default of column \"%s\" does not fit its type %s", c->name,
                       tstr(&c->type, b));
            diag_note(ck->diag, "%c%s.", why[0] - 'a' + 'A', why + 1);
            return;
        }
    }
    if (same_literal(c->dflt, lit)) {
        diag_warning(ck->diag, s->span, "W0404", "column \"%s\" %s", c->name,
                     lit ? "already has this default" : "has no default");
        return;
    }
    snprintf(what, sizeof what, "%s the default of column \"%.60s\"", lit ? "setting" : "dropping",
             c->name);
    rebuild_lint(ck, s, t, what);
    now = *c;
    now.dflt = lit;
    alter_column(ck, s, t, c, &now);
}

static void
stmt_add_constraint(struct checker *ck, const struct ast_stmt *s)
{
    static const char *const what[] = {"adding a primary key", "adding a unique constraint",
                                       "adding a foreign key", "adding a check constraint"};
    struct sm_table *t = find_table(ck, &s->table);
    const struct ast_tcons *tc = s->tcons;
    struct snap_table *before;
    struct sm_key *k;
    struct ir_op *op;
    size_t i;

    if (!t)
        return;
    before = rec_before(ck, t);
    k = table_constraint(ck, t, tc);
    if (!k)
        return;
    if (k->kind == KEY_PRIMARY)
        check_identity(ck, t, s->span);
    if (k->kind == KEY_PRIMARY) {
        /* As in PostgreSQL, the key's columns become not null. */
        for (i = 0; i < k->ncols; i++) {
            if (!k->cols[i]->not_null) {
                struct sm_column now = *k->cols[i];
                now.not_null = true;
                schema_set_column(&ck->schema, k->cols[i], &now);
            }
        }
    }
    if ((op = rec(ck, IR_ADD_KEY, s, before, t)))
        op->key = snap_find_key(op->after, k->name);
    if (!has_rows(ck, t))
        return;
    if (pg(ck))
        lint(ck, LINT_TABLE_LOCK, s->span,
             k->kind == KEY_FOREIGN
                 ? "Every row is checked against the referenced table while writes wait."
                 : "Writes wait while every row is checked; the step fails if a row violates it.",
             "%s locks and scans table \"%s\" on PostgreSQL", what[tc->kind], t->name);
    if (k->kind != KEY_UNIQUE)
        rebuild_lint(ck, s, t, what[tc->kind]);
}

static void
stmt_drop_key(struct checker *ck, const struct ast_stmt *s, struct sm_table *t, struct sm_key *k)
{
    static const char *const what[] = {"primary key", "unique constraint", "foreign key",
                                       "check constraint"};
    struct snap_table *before;
    struct ir_op *op;
    char verb[160];

    if ((k->kind == KEY_PRIMARY || k->kind == KEY_UNIQUE) &&
        !check_fk_dependents(ck, t, k->cols, k->ncols, k, s->span, what[k->kind], k->name))
        return;
    if (k->kind != KEY_UNIQUE) {
        snprintf(verb, sizeof verb, "dropping %s \"%.60s\"", what[k->kind], k->name);
        rebuild_lint(ck, s, t, verb);
    }
    before = rec_before(ck, t);
    if (k->kind == KEY_PRIMARY) {
        schema_set_pk(&ck->schema, t, NULL);
        check_identity(ck, t, s->span);
    } else {
        schema_drop_key(&ck->schema, t, k);
    }
    if ((op = rec(ck, IR_DROP_KEY, s, before, t)))
        op->key = snap_find_key(before, k->name);
}

static void
stmt_drop_primary_key(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);

    if (!t)
        return;
    if (!t->pk) {
        diag_error(ck->diag, s->span, "E0328", "table \"%s\" has no primary key in version \"%s\"",
                   t->name, ck->ver->name);
        return;
    }
    stmt_drop_key(ck, s, t, t->pk);
}

static void
stmt_drop_constraint(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct sm_key *k;
    struct suggest sg;
    size_t i;

    if (!t)
        return;
    k = table_key(t, s->name.name);
    if (!k || strcmp(k->name, s->name.name) != 0) {
        if (!diag_error(ck->diag, s->name.span, "E0323", "table \"%s\" has no constraint \"%s\"",
                        t->name, s->name.name))
            return;
        suggest_init(&sg, s->name.name);
        if (t->pk)
            suggest_try(&sg, t->pk->name);
        for (i = 0; i < t->keys.len; i++)
            suggest_try(&sg, ((struct sm_key *)t->keys.items[i])->name);
        suggest_help(ck, &sg);
        if (!sg.best && schema_index(&ck->schema, s->name.name))
            diag_help(ck->diag, "\"%s\" is an index: drop index %s;", s->name.name, s->name.name);
        return;
    }
    stmt_drop_key(ck, s, t, k);
}

static void
stmt_create_index(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct snap_table *before;
    struct sm_index *ix;
    struct sm_column **cols;
    struct ir_op *op;

    if (!t)
        return;
    if (!(cols = find_columns(ck, t, &s->cols)))
        return;
    if (!claim_name(ck, s->name.name, s->name.span, "index"))
        return;
    ix = ARENA_NEW(ck->arena, struct sm_index);
    ix->name = s->name.name;
    ix->table = t;
    ix->unique = s->unique;
    ix->cols = cols;
    ix->ncols = s->cols.len;
    ix->span = s->name.span;
    if (has_rows(ck, t) && pg(ck))
        lint(ck, LINT_TABLE_LOCK, s->span,
             s->unique ? "Writes wait until the index is built; the step fails if rows repeat a "
                         "value."
                       : "Writes wait until the index is built.",
             "creating index \"%s\" blocks writes to table \"%s\" on PostgreSQL", ix->name,
             t->name);
    before = rec_before(ck, t);
    schema_add_index(&ck->schema, ix);
    if ((op = rec(ck, IR_CREATE_INDEX, s, before, t)))
        op->index = snap_index_named(op->after, ix->name);
}

static void
stmt_drop_index(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_index *ix = schema_index(&ck->schema, s->name.name);
    const struct sm_rel *rel;
    struct snap_table *before;
    struct ir_op *op;

    if (!ix) {
        rel = schema_rel(&ck->schema, s->name.name);
        if (!diag_error(ck->diag, s->name.span, "E0322", "index \"%s\" does not exist in version \"%s\"",
                        s->name.name, ck->ver->name))
            return;
        if (rel && rel->kind == REL_INDEX) {
            diag_help(ck->diag, "Did you mean \"%s\"? Names are case-sensitive.",
                      schema_rel_name(&ck->schema, s->name.name));
        } else if (schema_gone(&ck->schema, s->name.name)) {
            note_gone(ck, schema_gone(&ck->schema, s->name.name));
        } else if (!rel) {
            struct suggest sg;
            size_t iter = 0;
            const char *key;
            void *value;
            suggest_init(&sg, s->name.name);
            while (hmap_next(&ck->schema.rels, &iter, &key, &value))
                if (((struct sm_rel *)value)->kind == REL_INDEX)
                    suggest_try(&sg, key);
            suggest_help(ck, &sg);
        } else if (rel->kind == REL_KEY)
            diag_help(ck->diag, "\"%s\" is a constraint of table \"%s\": alter table %s drop "
                                "constraint %s;",
                      s->name.name, ((struct sm_key *)rel->obj)->table->name,
                      ((struct sm_key *)rel->obj)->table->name, s->name.name);
        return;
    }
    if (ix->unique &&
        !check_fk_dependents(ck, ix->table, ix->cols, ix->ncols, ix, s->name.span, "index", ix->name))
        return;
    before = rec_before(ck, ix->table);
    schema_drop_index(&ck->schema, ix);
    schema_mark_gone(&ck->schema, gone(ck, "index", ix->name, NULL, s->span));
    if ((op = rec(ck, IR_DROP_INDEX, s, before, ix->table)))
        op->index = snap_index_named(before, ix->name);
}

static bool
valid_breaking_id(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static bool
blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

static void
stmt_notice(struct checker *ck, const struct ast_stmt *s)
{
    if (blank(s->text.text))
        diag_error(ck->diag, s->text.span, "E0420", "the notice is empty");
}

static void
stmt_breaking(struct checker *ck, const struct ast_stmt *s)
{
    const struct src_span *first;

    if (!valid_breaking_id(s->id.text)) {
        diag_error(ck->diag, s->id.span, "E0419", "breaking change id \"%s\" is not valid",
                   s->id.text);
        diag_help(ck->diag, "An id is made of letters, digits, '-', '_' and '.'; operators type it "
                            "in \"uprun apply --ack ID\".");
    } else if ((first = hmap_get(&ck->breaking_ids, s->id.text))) {
        diag_error(ck->diag, s->id.span, "E0331", "breaking change id \"%s\" is used twice",
                   s->id.text);
        diag_note_at(ck->diag, *first, "It is first used here.");
    } else {
        struct src_span *at = ARENA_NEW(ck->arena, struct src_span);
        *at = s->id.span;
        hmap_put(&ck->breaking_ids, s->id.text, at);
    }
    if (blank(s->text.text))
        diag_error(ck->diag, s->text.span, "E0420", "breaking change \"%s\" has no text",
                   s->id.text);
}

/* One sql block: exactly one up; a down or irreversible, not both. */
static void
sql_block_items(struct checker *ck, const struct ast_stmt *s)
{
    const struct ast_sql_item *up = NULL, *down = NULL, *irr = NULL;
    size_t i;

    if (s->sql_items.len == 0) {
        if (!s->dialect.name) {
            diag_error(ck->diag, s->span, "E0603", "sql block is empty");
            diag_help(ck->diag, "Give it an up and a down: sql { up \"...\"; down \"...\"; }");
        }
        return; /* an empty block for one dialect: nothing to do there, both ways */
    }
    for (i = 0; i < s->sql_items.len; i++) {
        const struct ast_sql_item *it = s->sql_items.items[i];
        const struct ast_sql_item **slot = it->kind == AST_SQL_UP     ? &up
                                           : it->kind == AST_SQL_DOWN ? &down
                                                                      : &irr;
        static const char *const names[] = {"up", "down", "irreversible"};
        if (*slot) {
            diag_error(ck->diag, it->span, "E0603", "sql block has a second %s", names[it->kind]);
            diag_note_at(ck->diag, (*slot)->span, "The first is here.");
            continue;
        }
        *slot = it;
    }
    if (!up)
        diag_error(ck->diag, s->span, "E0603", "sql block has no up");
    if (down && irr) {
        diag_error(ck->diag, irr->span, "E0602", "sql block has both a down and irreversible");
        diag_help(ck->diag, "Keep the down if the change can be undone; otherwise remove it.");
    } else if (up && !down && !irr) {
        diag_error(ck->diag, s->span, "E0601", "sql block has no down");
        diag_help(ck->diag, "Add down \"...\"; to undo it, or mark it irreversible \"why\"; so that "
                            "operators know rollback stops here.");
    }
}

/* The up, down and irreversible items of a sql block (the first of each). */
static void
sql_items(const struct ast_stmt *b, const char **up, const char **down, const char **irr)
{
    size_t i;

    *up = *down = *irr = NULL;
    for (i = 0; i < b->sql_items.len; i++) {
        const struct ast_sql_item *it = b->sql_items.items[i];
        const char **slot = it->kind == AST_SQL_UP ? up : it->kind == AST_SQL_DOWN ? down : irr;
        if (!*slot)
            *slot = it->text.text ? it->text.text : "";
    }
}

/* Fills the per-dialect texts of an IR_SQL operation from one block. */
static void
rec_sql_dialect(struct ir_op *op, enum dialect_id d, const struct ast_stmt *b)
{
    sql_items(b, &op->sql_up[d], &op->sql_down[d], &op->irreversible[d]);
}

/*
 * The sql block(s) at av->stmts[i]: a block without a dialect serves every
 * dialect; consecutive blocks with dialects form a group that must give each
 * declared dialect exactly one block. Records one IR_SQL operation for the
 * block or the group, and returns the index of the statement after it.
 */
static size_t
check_sql_at(struct checker *ck, const struct ast_version *av, size_t i)
{
    const struct ast_stmt *s = av->stmts.items[i];
    const struct ast_stmt *seen[DIALECT_COUNT] = {0};
    struct ir_op *op;
    bool any = false;
    size_t j, k;

    ck->plan->nstatements++;
    if (!s->dialect.name) {
        sql_block_items(ck, s);
        if ((op = rec(ck, IR_SQL, s, NULL, NULL)))
            for (k = 0; k < ck->plan->ndialects; k++)
                rec_sql_dialect(op, ck->plan->dialect_order[k], s);
        return i + 1;
    }
    for (j = i; j < av->stmts.len; j++) {
        const struct ast_stmt *b = av->stmts.items[j];
        enum dialect_id dl;
        if (b->kind != STMT_SQL || !b->dialect.name)
            break;
        if (j > i)
            ck->plan->nstatements++;
        sql_block_items(ck, b);
        if (!dialect_lookup(b->dialect.name, &dl)) {
            diag_error(ck->diag, b->dialect.span, "E0306", "unknown dialect \"%s\"",
                       b->dialect.name);
            if (edit_distance(b->dialect.name, "postgres", 3) <= 3)
                diag_help(ck->diag, "Did you mean \"postgres\"?");
            else if (edit_distance(b->dialect.name, "sqlite", 3) <= 3)
                diag_help(ck->diag, "Did you mean \"sqlite\"?");
            any = true;
            continue;
        }
        if (!plan_has_dialect(ck->plan, dl)) {
            diag_error(ck->diag, b->dialect.span, "E0502",
                       "sql block for dialect \"%s\", which the plan does not declare",
                       b->dialect.name);
            diag_help(ck->diag, "Add %s to the plan's dialects, or remove the block.",
                      b->dialect.name);
            any = true;
            continue;
        }
        if (seen[dl]) {
            diag_error(ck->diag, b->dialect.span, "E0504",
                       "second sql block for dialect \"%s\" in a row", b->dialect.name);
            diag_note_at(ck->diag, seen[dl]->dialect.span, "The first is here.");
            diag_help(ck->diag, "Put both changes in one block, or separate the groups with "
                                "another statement.");
            any = true;
            continue;
        }
        seen[dl] = b;
    }
    if (!any) {
        for (k = 0; k < ck->plan->ndialects; k++) {
            enum dialect_id dl = ck->plan->dialect_order[k];
            if (!seen[dl]) {
                struct src_span at = s->span;
                at.end = s->dialect.span.end;
                diag_error(ck->diag, at, "E0503", "sql blocks give no block for dialect \"%s\"",
                           dialect_name(dl));
                diag_help(ck->diag, "Add sql %s { ... } next to the others (an empty block "
                                    "means nothing to do there), or write one block without a "
                                    "dialect.",
                          dialect_name(dl));
            }
        }
    }
    if ((op = rec(ck, IR_SQL, s, NULL, NULL)))
        for (k = 0; k < DIALECT_COUNT; k++)
            if (seen[k])
                rec_sql_dialect(op, (enum dialect_id)k, seen[k]);
    return j;
}

/* Reads "allow a, b" of a statement into ck->allowed. */
static void
read_allows(struct checker *ck, const struct ast_stmt *s)
{
    size_t i;
    int l;

    ck->allowed = ck->used = 0;
    for (i = 0; i < s->allows.len; i++) {
        const struct ast_ident *id = &s->allows.items[i];
        struct suggest sg;
        for (l = 0; l < LINT_COUNT; l++)
            if (strcmp(id->name, lints[l].name) == 0)
                break;
        if (l < LINT_COUNT) {
            ck->allowed |= 1u << l;
            continue;
        }
        if (!diag_error(ck->diag, id->span, "E0330", "unknown lint \"%s\"", id->name))
            continue;
        suggest_init(&sg, id->name);
        for (l = 0; l < LINT_COUNT; l++)
            suggest_try(&sg, lints[l].name);
        if (sg.best)
            suggest_help(ck, &sg);
        else
            diag_help(ck->diag, "The lints are data_loss, table_rewrite, table_lock, "
                                "sqlite_rebuild and narrowing.");
    }
}

/* After a statement: an "allow" that suppressed nothing is probably stale. */
static void
unused_allows(struct checker *ck, const struct ast_stmt *s, size_t errors_before)
{
    size_t i;
    int l;

    if (diag_errors(ck->diag) != errors_before)
        return; /* the statement failed: its lints were not evaluated */
    for (i = 0; i < s->allows.len; i++) {
        const struct ast_ident *id = &s->allows.items[i];
        for (l = 0; l < LINT_COUNT; l++) {
            if (strcmp(id->name, lints[l].name) == 0 && !(ck->used & (1u << l))) {
                if (diag_warning(ck->diag, id->span, "W0301",
                                 "allow \"%s\" has no effect on this statement", id->name))
                    diag_help(ck->diag, "Remove it.");
            }
        }
    }
}

static void
check_stmt(struct checker *ck, const struct ast_stmt *s)
{
    size_t errors_before = diag_errors(ck->diag);

    ck->stmt = s;
    read_allows(ck, s);
    ck->plan->nstatements++;
    switch (s->kind) {
    case STMT_CREATE_TABLE:
        stmt_create_table(ck, s);
        break;
    case STMT_DROP_TABLE:
        stmt_drop_table(ck, s);
        break;
    case STMT_RENAME_TABLE:
        stmt_rename_table(ck, s);
        break;
    case STMT_ADD_COLUMN:
        stmt_add_column(ck, s);
        break;
    case STMT_DROP_COLUMN:
        stmt_drop_column(ck, s);
        break;
    case STMT_RENAME_COLUMN:
        stmt_rename_column(ck, s);
        break;
    case STMT_ALTER_TYPE:
        stmt_alter_type(ck, s);
        break;
    case STMT_SET_NOT_NULL:
        stmt_nullability(ck, s, true);
        break;
    case STMT_DROP_NOT_NULL:
        stmt_nullability(ck, s, false);
        break;
    case STMT_SET_DEFAULT:
        stmt_default(ck, s, s->dflt);
        break;
    case STMT_DROP_DEFAULT:
        stmt_default(ck, s, NULL);
        break;
    case STMT_ADD_CONSTRAINT:
        stmt_add_constraint(ck, s);
        break;
    case STMT_DROP_PRIMARY_KEY:
        stmt_drop_primary_key(ck, s);
        break;
    case STMT_DROP_CONSTRAINT:
        stmt_drop_constraint(ck, s);
        break;
    case STMT_CREATE_INDEX:
        stmt_create_index(ck, s);
        break;
    case STMT_DROP_INDEX:
        stmt_drop_index(ck, s);
        break;
    case STMT_NOTICE:
        stmt_notice(ck, s);
        break;
    case STMT_BREAKING:
        stmt_breaking(ck, s);
        break;
    case STMT_SQL:
        break; /* checked with its group, by check_sql_at() */
    }
    unused_allows(ck, s, errors_before);
}

static void
check_version(struct checker *ck, struct plan_version *v)
{
    size_t i = 0;

    ck->ver = v;
    if (ck->plan->record_ir)
        v->ir = ARENA_NEW(ck->arena, struct ir_step);
    while (i < v->ast->stmts.len) {
        const struct ast_stmt *s = v->ast->stmts.items[i];
        if (diag_should_stop(ck->diag)) {
            ck->diag->limit_hit = true; /* statements are left unchecked */
            return;
        }
        if (s->kind == STMT_SQL) {
            i = check_sql_at(ck, v->ast, i);
            continue;
        }
        check_stmt(ck, s);
        i++;
    }
    if (ck->plan->record_ir) {
        struct sm_table **tables;
        size_t n = schema_tables(&ck->schema, &tables), k;
        v->schema = ARENA_ARRAY(ck->arena, struct snap_table *, n + 1);
        for (k = 0; k < n; k++)
            v->schema[k] = snap_table(ck->arena, tables[k]);
        v->ntables = n;
    }
}

/*
 * The depth-first walk of the version tree with an explicit stack (a plan
 * may hold thousands of versions in one chain): check a version, visit
 * each version that follows it, undo back to the schema before it.
 *
 * A frame whose last child is being entered is replaced by the child's
 * frame, which inherits its undo mark (a tail call): when the child is done
 * it undoes both. When that leaves nothing below, no undo entry can ever be
 * used and the log is dropped, so a chain of versions runs in constant undo
 * memory.
 */
int
pass_check(struct plan *p, struct arena *a, struct diag_sink *d)
{
    struct checker ck;
    struct frame {
        struct plan_version *v;
        size_t next_child;
        size_t mark;
    } *stack;
    size_t depth = 0, before = diag_errors(d), inherited = SIZE_MAX;
    struct plan_version *next;

    if (p->nversions == 0 || !p->versions[0]->ok)
        return 0;
    memset(&ck, 0, sizeof ck);
    ck.plan = p;
    ck.arena = a;
    ck.diag = d;
    schema_init(&ck.schema, a);
    hmap_init(&ck.breaking_ids, false);
    stack = xmalloc((p->nversions + 1) * sizeof *stack);
    next = p->versions[0];
    for (;;) {
        if (next) {
            if (diag_should_stop(d)) {
                d->limit_hit = true;
                break;
            }
            if (depth == 0) {
                schema_forget_undo(&ck.schema);
                inherited = SIZE_MAX;
            }
            stack[depth].v = next;
            stack[depth].next_child = 0;
            /* a child entered in place of its parent's frame undoes the parent's changes too */
            stack[depth].mark = inherited != SIZE_MAX ? inherited : schema_mark(&ck.schema);
            inherited = SIZE_MAX;
            depth++;
            check_version(&ck, next);
            next = NULL;
        }
        if (depth == 0)
            break;
        {
            struct frame *top = &stack[depth - 1];
            struct plan_version *child = NULL;
            while (top->next_child < top->v->children.len && !child) {
                child = top->v->children.items[top->next_child++];
                if (!child->ok)
                    child = NULL;
            }
            if (!child) {
                schema_undo_to(&ck.schema, top->mark);
                depth--;
                continue;
            }
            /* the last usable child: this frame's state is not needed after it */
            {
                size_t k = top->next_child;
                while (k < top->v->children.len &&
                       !((const struct plan_version *)top->v->children.items[k])->ok)
                    k++;
                if (k == top->v->children.len) {
                    inherited = top->mark;
                    depth--;
                }
            }
            next = child;
        }
    }
    free(stack);
    hmap_free(&ck.breaking_ids);
    schema_free(&ck.schema);
    return (int)(diag_errors(d) - before);
}
