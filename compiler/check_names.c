/* SPDX-License-Identifier: MIT */
/*
 * check_names.c: the checker's names. Lookups of tables, columns and
 * indexes that explain a miss (a name that differs in case, one that was
 * dropped or renamed, and "did you mean" among the names that exist); and
 * the claim of a new name in the namespace that tables, indexes, primary
 * keys and unique constraints share, within the length every declared
 * dialect allows.
 */
#include <string.h>

#include "compiler/check.h"
#include "runtime/names.h"

bool
plain_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

const struct dialect *
declared(const struct checker *ck, size_t i)
{
    return plan_has_dialect(ck->plan, (enum dialect_id)i) ? dialect_get((enum dialect_id)i) : NULL;
}

const char *
tstr(const struct sm_type *t, char *buf)
{
    return type_str(t, buf, 32);
}

/* A table created in an earlier version may hold rows; one created in this version cannot. */
bool
has_rows(const struct checker *ck, const struct sm_table *t)
{
    return t->born != ck->ver;
}

/*
 * A name longer than a declared dialect allows (PostgreSQL truncates names
 * longer than 63 bytes) is refused rather than left to the database.
 */
bool
check_name_length(struct checker *ck, const char *name, struct src_span at, const char *what)
{
    size_t n = strlen(name), i;

    for (i = 0; i < DIALECT_COUNT; i++) {
        const struct dialect *d = declared(ck, i);
        if (!d || !d->max_ident_bytes || n <= d->max_ident_bytes)
            continue;
        diag_error(ck->diag, at, "E0501", "%s name \"%.40s...\" is %zu bytes long", what, name, n);
        diag_help(ck->diag, "%s; choose a shorter name.", d->ident_limit_help);
        return false;
    }
    return true;
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

/* Whether name starts with prefix, ASCII case folded. */
static bool
has_prefix(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);

    for (size_t i = 0; i < n; i++)
        if (!name[i] || ascii_lower(name[i]) != ascii_lower(prefix[i]))
            return false;
    return true;
}

/*
 * Refuses a name that upgrade-plan or a declared dialect keeps for itself:
 * uprun's history table, the tables a lowering makes for a while (_upg_...),
 * SQLite's sqlite_... (E0332). True when the name may be used.
 */
static bool
name_not_reserved(struct checker *ck, const char *name, struct src_span at, const char *what)
{
    size_t i;

    if (ascii_casecmp(name, UPG_HISTORY_TABLE) == 0 || ascii_casecmp(name, UPG_UNITS_TABLE) == 0 ||
        ascii_casecmp(name, UPG_RELEASES_TABLE) == 0 ||
        ascii_casecmp(name, UPG_BATCHES_TABLE) == 0 || has_prefix(name, UPG_RESERVED_PREFIX)) {
        diag_error(ck->diag, at, "E0332", "%s name \"%s\" is reserved by upgrade-plan", what, name);
        diag_note(ck->diag,
                  "uprun keeps its history in \"%s\" (and the units of a step in \"%s\"), "
                  "and a SQLite table rebuild works in tables named \"%s...\".",
                  UPG_HISTORY_TABLE, UPG_UNITS_TABLE, UPG_RESERVED_PREFIX);
        diag_help(ck->diag, "Choose another name.");
        return false;
    }
    for (i = 0; i < DIALECT_COUNT; i++) {
        const struct dialect *d = declared(ck, i);
        if (!d || !d->reserved_prefix || !has_prefix(name, d->reserved_prefix))
            continue;
        diag_error(ck->diag, at, "E0332", "%s name \"%s\" is reserved by %s", what, name, d->title);
        diag_note(ck->diag, "%s refuses names that start with \"%s\": they are its own.", d->title,
                  d->reserved_prefix);
        diag_help(ck->diag, "Choose another name.");
        return false;
    }
    return true;
}

/*
 * Checks that a new table, index, primary key or unique constraint name is
 * free in the shared namespace (folding case, as SQLite does).
 */
bool
claim_name(struct checker *ck, const char *name, struct src_span at, const char *what)
{
    const struct sm_rel *rel = schema_rel(&ck->schema, name);
    const char *existing;

    if (!check_name_length(ck, name, at, what) || !name_not_reserved(ck, name, at, what))
        return false;
    if (!rel)
        return true;
    existing = schema_rel_name(&ck->schema, name);
    if (strcmp(existing, name) == 0 && strcmp(rel_kind_name(rel), what) == 0)
        diag_error(ck->diag, at, "E0324", "%s \"%s\" already exists", what, name);
    else
        diag_error(ck->diag, at, "E0324", "%s name \"%s\" is already used by %s \"%s\"", what, name,
                   rel_kind_name(rel), existing);
    if (strcmp(existing, name) != 0)
        diag_help(ck->diag, "Names that differ only in case are the same name in SQLite.");
    diag_note_at(ck->diag, rel_span(rel), "\"%s\" is declared here.", existing);
    return false;
}

void
suggest_init(struct suggest *s, const char *target)
{
    s->target = target;
    s->best = NULL;
    s->dist = strlen(target) / 3 + 1;
    if (s->dist > 3)
        s->dist = 3;
}

void
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

void
suggest_help(struct checker *ck, const struct suggest *s)
{
    if (s->best)
        diag_help(ck->diag, "Did you mean \"%s\"?", s->best);
}

/* Records that a name is gone, for the notes of later lookups. */
struct sm_gone *
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

struct sm_table *
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

struct sm_column *
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
struct sm_column **
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
                diag_error(ck->diag, names->items[i].span, "E0327", "column \"%s\" is listed twice",
                           names->items[i].name);
                ok = false;
            }
        }
    }
    return ok ? cols : NULL;
}

void
unknown_index(struct checker *ck, const struct ast_ident *name)
{
    const struct sm_rel *rel = schema_rel(&ck->schema, name->name);

    if (!diag_error(ck->diag, name->span, "E0322", "index \"%s\" does not exist in version \"%s\"",
                    name->name, ck->ver->name))
        return;
    if (rel && rel->kind == REL_INDEX) {
        diag_help(ck->diag, "Did you mean \"%s\"? Names are case-sensitive.",
                  schema_rel_name(&ck->schema, name->name));
    } else if (schema_gone(&ck->schema, name->name)) {
        note_gone(ck, schema_gone(&ck->schema, name->name));
    } else if (!rel) {
        struct suggest sg;
        size_t iter = 0;
        const char *key;
        void *value;
        suggest_init(&sg, name->name);
        while (hmap_next(&ck->schema.rels, &iter, &key, &value))
            if (((struct sm_rel *)value)->kind == REL_INDEX)
                suggest_try(&sg, key);
        suggest_help(ck, &sg);
    } else if (rel->kind == REL_KEY) {
        diag_help(ck->diag,
                  "\"%s\" is a constraint of table \"%s\": alter table %s drop "
                  "constraint %s;",
                  name->name, ((struct sm_key *)rel->obj)->table->name,
                  ((struct sm_key *)rel->obj)->table->name, name->name);
    }
}

void
unknown_constraint(struct checker *ck, struct sm_table *t, const struct ast_ident *name)
{
    struct suggest sg;
    size_t i;

    if (!diag_error(ck->diag, name->span, "E0323", "table \"%s\" has no constraint \"%s\"", t->name,
                    name->name))
        return;
    suggest_init(&sg, name->name);
    if (t->pk)
        suggest_try(&sg, t->pk->name);
    for (i = 0; i < t->keys.len; i++)
        suggest_try(&sg, ((struct sm_key *)t->keys.items[i])->name);
    suggest_help(ck, &sg);
    if (!sg.best && schema_index(&ck->schema, name->name))
        diag_help(ck->diag, "\"%s\" is an index: drop index %s;", name->name, name->name);
}
