/* SPDX-License-Identifier: MIT */
/*
 * schema.h: the schema model that the checker replays version by version,
 * and that the lowerings read to see a table before and after an operation.
 *
 * Objects refer to each other by pointer (a key holds its columns, a
 * foreign key its referenced table), so renames need no fix-ups and a
 * column keeps its identity through a rename or a change of type.
 *
 * Every mutation goes through a primitive that records its inverse in an
 * undo log. The checker walks the version tree depth first: it applies a
 * version's operations, visits the versions that follow it, then undoes back
 * to a mark. Each operation is applied and undone once, so checking costs
 * time linear in the size of the plan, and no version copies the schema.
 *
 * Names of tables, indexes, primary keys and unique constraints share one
 * namespace (they do in PostgreSQL, where the latter two are indexes too),
 * kept in a hash map that folds ASCII case the way SQLite compares names.
 */
#ifndef UPG_COMPILER_SCHEMA_H
#define UPG_COMPILER_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/hmap.h"
#include "core/source.h"
#include "compiler/dialect.h"
#include "compiler/types.h"

/* A list of pointers; the element type is given by the field's comment. */
struct sm_list {
    void **items;
    size_t len, cap;
};

struct sm_table;
struct plan_version;
struct snap_table;

/* What became of a name that is gone: dropped, or renamed to something else. */
struct sm_gone {
    const char *kind;       /* "table", "index", "column" */
    const char *name;       /* the name that is gone */
    const char *renamed_to; /* NULL when dropped */
    const char *version;    /* the version that dropped or renamed it */
    struct src_span at;     /* the statement that did */
};

struct sm_column {
    const char *name;
    struct sm_type type;
    bool not_null;
    bool identity;
    const struct sm_value *dflt; /* NULL: no default */
    /* the type each dialect declares it with, when not the dialect's own for its type (a column's
     * "as sqlite ...", or the plan's "types sqlite { ... }"); NULL: the dialect's */
    const char *declared[DIALECT_COUNT];
    struct src_span span; /* where it was declared */
    struct sm_table *table;
};

enum sm_key_kind { KEY_PRIMARY, KEY_UNIQUE, KEY_FOREIGN, KEY_CHECK };

/* What a foreign key does when the referenced row is deleted. */
enum sm_fk_action {
    SM_FK_NONE, /* not given: the database's default (no action) */
    SM_FK_CASCADE,
    SM_FK_SET_NULL,
    SM_FK_RESTRICT,
    SM_FK_NO_ACTION,
};

struct sm_key {
    enum sm_key_kind kind;
    const char *name; /* given, or derived (PK_T, AK_T_a, FK_T_R_a, CK_T_n) */
    bool name_given;
    struct sm_table *table;
    struct sm_column **cols; /* key columns; FK: referencing columns */
    size_t ncols;
    struct sm_table *ref_table; /* FK */
    struct sm_column **ref_cols;
    size_t nref;
    enum sm_fk_action on_delete;
    enum sm_fk_action on_update;
    const char *expr; /* CHECK: the author's SQL expression */
    struct src_span span;
};

struct sm_index {
    const char *name;
    struct sm_table *table;
    bool unique;
    struct sm_column **cols;
    size_t ncols;
    struct src_span span;
};

struct sm_table {
    const char *name;
    struct sm_list cols;     /* struct sm_column *, in order */
    struct hmap colnames;    /* folded column name -> struct sm_column *: lookups in O(1) */
    struct sm_key *pk;       /* NULL: none */
    struct sm_list keys;     /* struct sm_key *: unique, foreign and check constraints */
    struct sm_list indexes;  /* struct sm_index * */
    struct sm_list incoming; /* struct sm_key *: foreign keys that reference this table */
    struct sm_list gone;     /* struct sm_gone *: its columns dropped or renamed so far */
    struct src_span span;
    const struct plan_version *born; /* the version that created it (no rows before it ends) */
    const struct snap_table *snap;   /* its last snapshot (ir.h), whose unchanged parts the next
                                        one shares; compared, never trusted */
    size_t cols_kept; /* how many leading columns are still as in snap: set by snap_table,
                         lowered by every change of cols (schema.c), so that a snapshot after
                         an added column compares only what is new (asserted in debug builds) */
};

/* REL_GONE marks a dropped or renamed table or index (obj: struct sm_gone *), so that a later
 * use of the old name can say what became of it; every lookup treats it as absent. */
enum sm_rel_kind { REL_TABLE, REL_INDEX, REL_KEY, REL_GONE };

/* An entry of the shared namespace. */
struct sm_rel {
    enum sm_rel_kind kind;
    void *obj; /* struct sm_table *, struct sm_index * or struct sm_key * */
};

struct sm_undo;

struct schema {
    struct arena *arena;
    struct hmap rels; /* folded name -> struct sm_rel * */
    struct sm_undo *log;
    size_t log_len, log_cap;
    struct hmap **colmaps; /* every table's colnames, freed with the schema */
    size_t ncolmaps, colmaps_cap;
    bool no_log;             /* mutations are not logged: nothing will be undone */
    struct sm_undo *scratch; /* where an unlogged mutation writes its record */
};

void schema_init(struct schema *s, struct arena *a);
void schema_free(struct schema *s);

/* The undo log: a mark, and undoing everything after it. */
size_t schema_mark(const struct schema *s);
void schema_undo_to(struct schema *s, size_t mark);
/* Drops the whole log: nothing before this point will ever be undone. */
void schema_forget_undo(struct schema *s);
/* Whether mutations are logged from now on (false: nothing after this point will be undone). */
void schema_set_logging(struct schema *s, bool on);

/* Lookups by exact name; NULL when absent. */
struct sm_table *schema_table(const struct schema *s, const char *name);
struct sm_index *schema_index(const struct schema *s, const char *name);
/* Any live entry of the namespace whose name folds to the same, or NULL. */
const struct sm_rel *schema_rel(const struct schema *s, const char *name);
const char *schema_rel_name(const struct schema *s, const char *name);
/* What became of a table or index name that is no longer in use, or NULL. */
const struct sm_gone *schema_gone(const struct schema *s, const char *name);
/* Records that a name is gone (after the drop or rename that freed it). */
void schema_mark_gone(struct schema *s, struct sm_gone *g);
/* The same for a column of table t. */
void schema_mark_column_gone(struct schema *s, struct sm_table *t, struct sm_gone *g);
const struct sm_gone *table_column_gone(const struct sm_table *t, const char *name);

struct sm_column *table_column(const struct sm_table *t, const char *name);
/* A column whose name differs only in case (for "did you mean"), or NULL. */
struct sm_column *table_column_fold(const struct sm_table *t, const char *name);
size_t table_column_pos(const struct sm_table *t, const struct sm_column *c);
struct sm_key *table_key(const struct sm_table *t, const char *name);

/* Mutations; each records its inverse. */
void schema_add_table(struct schema *s, struct sm_table *t);
void schema_drop_table(struct schema *s, struct sm_table *t);
void schema_rename_table(struct schema *s, struct sm_table *t, const char *name);
void schema_add_column(struct schema *s, struct sm_table *t, struct sm_column *c, size_t pos);
void schema_drop_column(struct schema *s, struct sm_table *t, struct sm_column *c);
/* Replaces a column's attributes (name, type, nullability, default, identity). */
void schema_set_column(struct schema *s, struct sm_column *c, const struct sm_column *now);
void schema_set_pk(struct schema *s, struct sm_table *t, struct sm_key *pk);
void schema_add_key(struct schema *s, struct sm_table *t, struct sm_key *k);
void schema_drop_key(struct schema *s, struct sm_table *t, struct sm_key *k);
void schema_add_index(struct schema *s, struct sm_index *ix);
void schema_drop_index(struct schema *s, struct sm_index *ix);

/* Tables in the namespace, sorted by name (for dumps and expected schemas). */
size_t schema_tables(const struct schema *s, struct sm_table ***out);

/* True when column c is one of the n columns. */
bool cols_contain(struct sm_column *const *cols, size_t n, const struct sm_column *c);

#endif
