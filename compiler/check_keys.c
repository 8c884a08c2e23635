/* SPDX-License-Identifier: MIT */
/*
 * check_keys.c: the checker's columns and constraints. A column definition
 * becomes a model column (type, nullability, identity, default) and the keys
 * it declares; table constraints become keys with their names (given, or
 * derived the way Entity Framework names them); foreign keys are resolved
 * against the referenced table's keys and types; and the rules that keep a
 * key, an index or a foreign key from losing its ground are here.
 */
#include <string.h>

#include "compiler/check.h"

static void check_expr_names(struct checker *ck, struct sm_table *t, const char *expr,
                             struct src_span at);

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
is_unique_set(const struct sm_table *t, struct sm_column *const *cols, size_t n, const void *except)
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
bool
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
        diag_error(ck->diag, at, "E0413",
                   "%s \"%s\" is needed by foreign key \"%s\" of table \"%s\"", what, name,
                   fk->name, fk->table->name);
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
                diag_help(ck->diag, "The name is derived; name the constraint: \"constraint NAME "
                                    "references ...\" on the column, or \"foreign key NAME "
                                    "(columns) references ...\".");
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
 * form a key, and that SET NULL (on delete or on update) has nullable
 * columns to set.
 */
static bool
resolve_fk(struct checker *ck, struct sm_key *k, struct sm_table *t, const struct ast_ident *ref,
           const ast_ident_list *ref_cols, const struct ast_fk_actions *actions)
{
    struct sm_table *rt = strcmp(ref->name, t->name) == 0 ? t : find_table(ck, ref);
    char b1[32], b2[32];
    size_t i;

    if (actions->twice.file) {
        diag_error(ck->diag, actions->twice, "E0417", "the foreign key gives an action twice");
        diag_help(ck->diag, "Give on delete and on update at most once each.");
        return false;
    }
    if (!rt)
        return false;
    k->ref_table = rt;
    k->on_delete = fk_action_of(actions->on_delete);
    k->on_update = fk_action_of(actions->on_update);
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
        diag_error(ck->diag, k->span, "E0408", "foreign key has %zu column%s but references %zu",
                   k->ncols, k->ncols == 1 ? "" : "s", k->nref);
        return false;
    }
    for (i = 0; i < k->ncols; i++) {
        if (!type_fk_compatible(&k->cols[i]->type, &k->ref_cols[i]->type)) {
            diag_error(
                ck->diag, k->span, "E0409",
                "foreign key column \"%s\" (%s) does not match referenced column \"%s\".\"%s\" (%s)",
                k->cols[i]->name, tstr(&k->cols[i]->type, b1), rt->name, k->ref_cols[i]->name,
                tstr(&k->ref_cols[i]->type, b2));
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
    for (int a = 0; a < 2; a++) {
        enum ast_fk_action act = a ? actions->on_update : actions->on_delete;
        if (act != FK_ACTION_SET_NULL)
            continue;
        for (i = 0; i < k->ncols; i++) {
            if (k->cols[i]->not_null) {
                diag_error(ck->diag, k->span, "E0415",
                           "on %s set null needs nullable columns, but \"%s\" is not null",
                           a ? "update" : "delete", k->cols[i]->name);
                return false;
            }
        }
    }
    return true;
}

/*
 * Builds a column from its definition. Column constraints that are keys
 * (primary key, unique, references, check) go to *ex to be added once the
 * column belongs to its table. Returns NULL only when the column is
 * unusable (never: errors are reported and a best-effort column returned).
 */
struct sm_column *
build_column(struct checker *ck, const struct ast_column *ac, struct col_extras *ex)
{
    struct sm_column *c = ARENA_NEW(ck->arena, struct sm_column);
    const struct ast_colcons *not_null = NULL, *null = NULL, *identity = NULL, *dflt = NULL;
    const struct ast_colcons *fill = NULL, *declared[DIALECT_COUNT] = {0};
    size_t i;

    memset(ex, 0, sizeof *ex);
    c->name = ac->name.name;
    c->span = ac->name.span;
    check_name_length(ck, c->name, ac->name.span, "column");
    type_resolve(&ac->type, &c->type, ck->diag);
    for (i = 0; i < ac->cons.len; i++) {
        const struct ast_colcons *cc = ac->cons.items[i];
        const struct ast_colcons **slot = NULL;
        static const char *const names[] = {"not null", "null",           "primary key", "unique",
                                            "identity", "default",        "references",  "check",
                                            "fill",     "a declared type"};
        const struct dialect *dl;
        if (cc->name.name && cc->kind != CC_PRIMARY_KEY && cc->kind != CC_UNIQUE &&
            cc->kind != CC_REFERENCES && cc->kind != CC_CHECK) {
            diag_error(ck->diag, cc->name.span, "E0403",
                       "constraint name \"%s\" on %s: only keys and checks have names",
                       cc->name.name, names[cc->kind]);
            diag_help(ck->diag, "Name a primary key, unique, references or check.");
        }
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
        case CC_FILL:
            slot = &fill;
            break;
        case CC_DECLARED:
            if (!(dl = declared_dialect(ck->plan, &cc->dialect, ck->diag)))
                continue;
            slot = &declared[dl->id];
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
        diag_error(ck->diag, null->span, "E0403",
                   "column \"%s\" is declared both null and not null", c->name);
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
            diag_error(ck->diag, dflt->span, "E0403",
                       "identity column \"%s\" cannot have a default", c->name);
            diag_note(ck->diag, "The database generates its values.");
            dflt = NULL;
        }
        c->identity = true;
    }
    c->not_null = not_null || ex->pk || identity;
    if (dflt) {
        const struct sm_value *dv = value_of(ck->arena, dflt->dflt);
        const char *why = type_check_value(&c->type, dv);
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
            c->dflt = dv;
        }
        if (why && dv->kind == VAL_EXPR && !value_expr_lookup(dv->text))
            diag_help(ck->diag, "The expressions a default may be are %s.", value_exprs_text());
    }
    if (fill) {
        const struct sm_value *fv = value_of(ck->arena, fill->dflt);
        const char *why = type_check_value(&c->type, fv);
        char b[32];
        ex->fill_at = fill; /* given, even when refused below: no second error for its absence */
        if (why) {
            diag_error(ck->diag, fill->dflt->span, "E0404",
                       "fill of column \"%s\" does not fit its type %s", c->name,
                       tstr(&c->type, b));
            diag_note(ck->diag, "%c%s.", why[0] - 'a' + 'A', why + 1);
        } else if (fv->kind == VAL_NULL) {
            diag_error(ck->diag, fill->dflt->span, "E0404",
                       "column \"%s\" fills its rows with null, as a new column does anyway",
                       c->name);
            diag_help(ck->diag, "Remove the fill, or give a value.");
        } else if (identity) {
            diag_error(ck->diag, fill->span, "E0403", "identity column \"%s\" cannot be filled",
                       c->name);
            diag_note(ck->diag, "The database generates its values.");
        } else {
            ex->fill = fv;
        }
    }
    /* the type each dialect declares it with: the column's own, or the plan's for its type */
    for (i = 0; i < DIALECT_COUNT; i++) {
        const char *plan_decl = ck->plan->declared[i][c->type.kind];
        if (declared[i] &&
            declared_type_ok(dialect_get((enum dialect_id)i), &declared[i]->expr, ck->diag))
            c->declared[i] = declared[i]->expr.text;
        else if (!declared[i])
            c->declared[i] = plan_decl;
    }
    return c;
}

/* Reports E0325 when t already has a column of that name (folding case). */
bool
column_name_free(struct checker *ck, struct sm_table *t, const char *name, struct src_span at,
                 const struct sm_column *except)
{
    struct sm_column *other = table_column_fold(t, name);

    if (!other || other == except)
        return true;
    if (strcmp(other->name, name) == 0)
        diag_error(ck->diag, at, "E0325", "table \"%s\" already has a column \"%s\"", t->name,
                   name);
    else
        diag_error(ck->diag, at, "E0325",
                   "column \"%s\" differs from column \"%s\" of table \"%s\" only in case", name,
                   other->name, t->name);
    diag_note_at(ck->diag, other->span, "\"%s\" is declared here.", other->name);
    return false;
}

/* The single-column keys of a column definition, once the column is in t. */
void
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
            add_key(ck, t, new_key(ck, KEY_PRIMARY, t, one, 1, ex->pk->span), &ex->pk->name);
        }
    }
    if (ex->unique)
        add_key(ck, t, new_key(ck, KEY_UNIQUE, t, one, 1, ex->unique->span), &ex->unique->name);
    if (ex->fk) {
        struct sm_key *k = new_key(ck, KEY_FOREIGN, t, one, 1, ex->fk->span);
        if (resolve_fk(ck, k, t, &ex->fk->ref_table, &ex->fk->ref_cols, &ex->fk->actions))
            add_key(ck, t, k, &ex->fk->name);
    }
    if (ex->check) {
        struct sm_key *k = new_key(ck, KEY_CHECK, t, one, 1, ex->check->span);
        k->expr = ex->check->expr.text;
        check_expr_names(ck, t, k->expr, ex->check->expr.span);
        add_key(ck, t, k, &ex->check->name);
    }
}

/*
 * One identity column per table. Where a declared dialect has identity only
 * as the rowid alias (SQLite's "INTEGER PRIMARY KEY"), an identity column
 * must be the table's whole primary key.
 */
void
check_identity(struct checker *ck, struct sm_table *t, struct src_span at)
{
    const struct sm_column *seen = NULL;
    const struct dialect *rowid = NULL;
    size_t i;

    for (i = 0; i < DIALECT_COUNT && !rowid; i++)
        if (declared(ck, i) && declared(ck, i)->identity_is_rowid)
            rowid = declared(ck, i);
    for (i = 0; i < t->cols.len; i++) {
        const struct sm_column *c = t->cols.items[i];
        if (!c->identity)
            continue;
        if (seen) {
            diag_error(ck->diag, c->span, "E0403",
                       "table \"%s\" has a second identity column \"%s\"", t->name, c->name);
            diag_note_at(ck->diag, seen->span, "\"%s\" is an identity column too.", seen->name);
            continue;
        }
        seen = c;
        if (rowid && !(t->pk && t->pk->ncols == 1 && t->pk->cols[0] == c)) {
            diag_error(ck->diag, at.file ? at : c->span, "E0505",
                       "identity column \"%s\" must be the whole primary key of \"%s\" on %s",
                       c->name, t->name, rowid->title);
            if (at.file) {
                diag_help(ck->diag, rowid->identity_help_change, c->name);
                diag_note_at(ck->diag, c->span, "\"%s\" is declared here.", c->name);
            } else {
                diag_help(ck->diag, rowid->identity_help_create, c->name,
                          c->type.kind == TY_INT ? "int" : "bigint");
            }
        }
    }
}

/*
 * A check expression is the author's SQL, not parsed; but one mistake is
 * common enough to look for: a mixed-case column written without quotes,
 * which a dialect that folds unquoted names (PostgreSQL: to lower case)
 * then cannot find. Scans the expression's bare words (outside strings,
 * quoted names and comments).
 */
static void
check_expr_names(struct checker *ck, struct sm_table *t, const char *expr, struct src_span at)
{
    const struct dialect *d = NULL;
    const char *p = expr;
    size_t k;

    for (k = 0; k < DIALECT_COUNT && !d; k++)
        if (declared(ck, k) && declared(ck, k)->folds_unquoted_names)
            d = declared(ck, k);
    if (!d || !expr)
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
                if (ascii_casecmp(c->name, word) != 0)
                    continue;
                for (const char *q = c->name; *q; q++)
                    lower = lower && !(*q >= 'A' && *q <= 'Z');
                if (lower)
                    break; /* the folding finds an all-lower-case column */
                {
                    char folded[64];
                    for (i = 0; i <= n; i++)
                        folded[i] = ascii_lower(word[i]);
                    if (diag_error(ck->diag, at, "E0506",
                                   "check names column \"%s\" without quotes, which %s reads as "
                                   "\"%s\"",
                                   c->name, d->title, folded))
                        diag_help(ck->diag,
                                  "%s folds unquoted names to lower case: quote the name, "
                                  "as in $$\"%s\" > 0$$.",
                                  d->title, c->name);
                }
                return;
            }
            continue;
        }
        p++;
    }
}

struct sm_key *
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
        !resolve_fk(ck, k, t, &tc->ref_table, &tc->ref_cols, &tc->actions))
        return NULL;
    if (tc->kind == TC_CHECK) {
        k->expr = tc->expr.text;
        check_expr_names(ck, t, k->expr, tc->expr.span);
    }
    return add_key(ck, t, k, &tc->name) ? k : NULL;
}

/* Reports E0411 when something still uses column c; true when nothing does. */
bool
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

/* A foreign key still pairs compatible types after column c becomes type `to`. */
bool
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
                diag_error(
                    ck->diag, at, "E0409",
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
                diag_error(
                    ck->diag, at, "E0409",
                    "column \"%s\" as %s would not match \"%s\".\"%s\" (%s), which references it",
                    c->name, tstr(to, b1), k->table->name, k->cols[j]->name,
                    tstr(&k->cols[j]->type, b2));
                return false;
            }
        }
    }
    return true;
}
