/* SPDX-License-Identifier: MIT */
/*
 * schema.c: the schema model's lookups and its undoable mutations.
 *
 * Seven primitives touch the model: put and delete a namespace entry, insert
 * into and remove from a list, set a pointer or a name, and replace a column's
 * attributes. Each records its inverse; every higher-level mutation is a
 * sequence of primitives, so undoing is always exact and needs no per-operation
 * inverse code.
 */
#include "compiler/schema.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

enum undo_kind {
    UNDO_REL_PUT,
    UNDO_REL_DEL,
    UNDO_LIST_INSERT,
    UNDO_LIST_REMOVE,
    UNDO_SET_PTR,
    UNDO_SET_NAME,
    UNDO_SET_COLUMN,
    UNDO_COL_PUT, /* a name put in a table's colnames */
    UNDO_COL_DEL, /* a name taken out of it */
};

struct sm_undo {
    enum undo_kind kind;
    const char *key;         /* REL_*: the name as stored */
    struct sm_rel *rel;      /* REL_DEL: the entry removed; REL_PUT: the entry replaced, or NULL */
    const char *old_key;     /* REL_PUT: the key of the entry replaced */
    struct sm_list *list;    /* LIST_* */
    size_t pos;              /* LIST_* */
    void *item;              /* LIST_REMOVE: the element removed; SET_PTR: old value */
    void **slot;             /* SET_PTR */
    const char **name_slot;  /* SET_NAME */
    const char *old_name;    /* SET_NAME */
    struct sm_column *col;   /* SET_COLUMN, COL_* */
    struct sm_column *saved; /* SET_COLUMN: a copy of the column before, in the arena */
    struct hmap *map;        /* COL_*: the table's colnames */
};

void
schema_init(struct schema *s, struct arena *a)
{
    memset(s, 0, sizeof *s);
    s->arena = a;
    hmap_init(&s->rels, true);
}

void
schema_free(struct schema *s)
{
    size_t i;

    for (i = 0; i < s->ncolmaps; i++)
        hmap_free(s->colmaps[i]);
    free(s->colmaps);
    s->colmaps = NULL;
    s->ncolmaps = s->colmaps_cap = 0;
    hmap_free(&s->rels);
    free(s->log);
    s->log = NULL;
    s->log_len = s->log_cap = 0;
}

static struct sm_undo *
push_undo(struct schema *s, enum undo_kind kind)
{
    struct sm_undo *u;

    if (s->no_log) {
        if (!s->scratch)
            s->scratch = ARENA_NEW(s->arena, struct sm_undo);
        memset(s->scratch, 0, sizeof *s->scratch);
        return s->scratch;
    }
    if (s->log_len == s->log_cap) {
        s->log_cap = s->log_cap ? s->log_cap * 2 : 256;
        s->log = xrealloc(s->log, s->log_cap * sizeof *s->log);
    }
    u = &s->log[s->log_len++];
    memset(u, 0, sizeof *u);
    u->kind = kind;
    return u;
}

static void
list_insert_raw(struct arena *a, struct sm_list *l, size_t pos, void *item)
{
    if (l->len == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 4;
        void **items = arena_alloc(a, ncap * sizeof *items);
        if (l->len)
            memcpy(items, l->items, l->len * sizeof *items);
        l->items = items;
        l->cap = ncap;
    }
    memmove(&l->items[pos + 1], &l->items[pos], (l->len - pos) * sizeof *l->items);
    l->items[pos] = item;
    l->len++;
}

static void *
list_remove_raw(struct sm_list *l, size_t pos)
{
    void *item = l->items[pos];

    memmove(&l->items[pos], &l->items[pos + 1], (l->len - pos - 1) * sizeof *l->items);
    l->len--;
    return item;
}

static size_t
list_find(const struct sm_list *l, const void *item)
{
    size_t i;

    for (i = 0; i < l->len; i++)
        if (l->items[i] == item)
            return i;
    return SIZE_MAX;
}

/* --- the primitives ------------------------------------------------------ */

static void
rel_put(struct schema *s, const char *name, enum sm_rel_kind kind, void *obj)
{
    struct sm_rel *rel = ARENA_NEW(s->arena, struct sm_rel);
    struct sm_undo *u;

    rel->kind = kind;
    rel->obj = obj;
    u = push_undo(s, UNDO_REL_PUT);
    u->key = name;
    /* only a REL_GONE marker is ever replaced; undoing brings it back */
    u->rel = hmap_get(&s->rels, name);
    u->old_key = hmap_key(&s->rels, name);
    if (u->old_key)
        hmap_del(&s->rels, name);
    hmap_put(&s->rels, name, rel);
}

static void
rel_del(struct schema *s, const char *name)
{
    const char *key = hmap_key(&s->rels, name);
    struct sm_rel *rel = hmap_get(&s->rels, name);
    struct sm_undo *u;

    if (!key)
        return;
    hmap_del(&s->rels, name);
    u = push_undo(s, UNDO_REL_DEL);
    u->key = key;
    u->rel = rel;
}

static void
list_insert(struct schema *s, struct sm_list *l, size_t pos, void *item)
{
    struct sm_undo *u;

    list_insert_raw(s->arena, l, pos, item);
    u = push_undo(s, UNDO_LIST_INSERT);
    u->list = l;
    u->pos = pos;
}

static void
list_remove(struct schema *s, struct sm_list *l, void *item)
{
    size_t pos = list_find(l, item);
    struct sm_undo *u;

    if (NEVER(pos == SIZE_MAX))
        return;
    list_remove_raw(l, pos);
    u = push_undo(s, UNDO_LIST_REMOVE);
    u->list = l;
    u->pos = pos;
    u->item = item;
}

static void
set_ptr(struct schema *s, void **slot, void *value)
{
    struct sm_undo *u = push_undo(s, UNDO_SET_PTR);

    u->slot = slot;
    u->item = *slot;
    *slot = value;
}

static void
set_name(struct schema *s, const char **slot, const char *value)
{
    struct sm_undo *u = push_undo(s, UNDO_SET_NAME);

    u->name_slot = slot;
    u->old_name = *slot;
    *slot = value;
}

/* A table's map of column names, made on first use and freed with the schema. */
static struct hmap *
colmap(struct schema *s, struct sm_table *t)
{
    if (!t->colnames.fold) {
        hmap_init(&t->colnames, true);
        if (s->ncolmaps == s->colmaps_cap) {
            s->colmaps_cap = s->colmaps_cap ? s->colmaps_cap * 2 : 64;
            s->colmaps = xrealloc(s->colmaps, s->colmaps_cap * sizeof *s->colmaps);
        }
        s->colmaps[s->ncolmaps++] = &t->colnames;
    }
    return &t->colnames;
}

static void
col_put(struct schema *s, struct sm_table *t, struct sm_column *c)
{
    struct sm_undo *u = push_undo(s, UNDO_COL_PUT);

    u->map = colmap(s, t);
    u->col = c;
    u->key = c->name;
    hmap_put(u->map, c->name, c);
}

static void
col_del(struct schema *s, struct sm_table *t, struct sm_column *c)
{
    struct sm_undo *u = push_undo(s, UNDO_COL_DEL);

    u->map = colmap(s, t);
    u->col = c;
    u->key = c->name;
    hmap_del(u->map, c->name);
}

size_t
schema_mark(const struct schema *s)
{
    return s->log_len;
}

void
schema_forget_undo(struct schema *s)
{
    s->log_len = 0;
}

void
schema_set_logging(struct schema *s, bool on)
{
    s->no_log = !on;
}

void
schema_undo_to(struct schema *s, size_t mark)
{
    while (s->log_len > mark) {
        struct sm_undo *u = &s->log[--s->log_len];
        switch (u->kind) {
        case UNDO_REL_PUT:
            hmap_del(&s->rels, u->key);
            if (u->old_key)
                hmap_put(&s->rels, u->old_key, u->rel);
            break;
        case UNDO_REL_DEL:
            hmap_put(&s->rels, u->key, u->rel);
            break;
        case UNDO_LIST_INSERT:
            list_remove_raw(u->list, u->pos);
            break;
        case UNDO_LIST_REMOVE:
            list_insert_raw(s->arena, u->list, u->pos, u->item);
            break;
        case UNDO_SET_PTR:
            *u->slot = u->item;
            break;
        case UNDO_SET_NAME:
            *u->name_slot = u->old_name;
            break;
        case UNDO_SET_COLUMN:
            *u->col = *u->saved;
            u->col->table->cols_kept = 0;
            break;
        case UNDO_COL_PUT: /* with every column added to or dropped from a table's list */
            hmap_del(u->map, u->key);
            u->col->table->cols_kept = 0;
            break;
        case UNDO_COL_DEL:
            hmap_put(u->map, u->key, u->col);
            u->col->table->cols_kept = 0;
            break;
        }
    }
}

/* --- lookups ------------------------------------------------------------- */

const struct sm_rel *
schema_rel(const struct schema *s, const char *name)
{
    const struct sm_rel *rel = hmap_get(&s->rels, name);

    return rel && rel->kind != REL_GONE ? rel : NULL;
}

const char *
schema_rel_name(const struct schema *s, const char *name)
{
    return schema_rel(s, name) ? hmap_key(&s->rels, name) : NULL;
}

const struct sm_gone *
schema_gone(const struct schema *s, const char *name)
{
    const struct sm_rel *rel = hmap_get(&s->rels, name);
    const char *key = hmap_key(&s->rels, name);

    return rel && rel->kind == REL_GONE && strcmp(key, name) == 0 ? rel->obj : NULL;
}

void
schema_mark_gone(struct schema *s, struct sm_gone *g)
{
    if (!hmap_get(&s->rels, g->name))
        rel_put(s, g->name, REL_GONE, g);
}

void
schema_mark_column_gone(struct schema *s, struct sm_table *t, struct sm_gone *g)
{
    list_insert(s, &t->gone, t->gone.len, g);
}

const struct sm_gone *
table_column_gone(const struct sm_table *t, const char *name)
{
    size_t i;

    /* the latest first: a name may have been dropped, re-added and dropped again */
    for (i = t->gone.len; i-- > 0;) {
        const struct sm_gone *g = t->gone.items[i];
        if (strcmp(g->name, name) == 0)
            return g;
    }
    return NULL;
}

static void *
rel_exact(const struct schema *s, const char *name, enum sm_rel_kind kind)
{
    const struct sm_rel *rel = schema_rel(s, name);
    const char *key = hmap_key(&s->rels, name);

    if (!rel || rel->kind != kind || strcmp(key, name) != 0)
        return NULL;
    return rel->obj;
}

struct sm_table *
schema_table(const struct schema *s, const char *name)
{
    return rel_exact(s, name, REL_TABLE);
}

struct sm_index *
schema_index(const struct schema *s, const char *name)
{
    return rel_exact(s, name, REL_INDEX);
}

struct sm_column *
table_column(const struct sm_table *t, const char *name)
{
    struct sm_column *c = table_column_fold(t, name);

    /* names are unique when case is folded: the folded match is the only candidate */
    return c && strcmp(c->name, name) == 0 ? c : NULL;
}

struct sm_column *
table_column_fold(const struct sm_table *t, const char *name)
{
    return t->colnames.fold ? hmap_get(&t->colnames, name) : NULL;
}

size_t
table_column_pos(const struct sm_table *t, const struct sm_column *c)
{
    return list_find(&t->cols, c);
}

struct sm_key *
table_key(const struct sm_table *t, const char *name)
{
    size_t i;

    if (t->pk && ascii_casecmp(t->pk->name, name) == 0)
        return t->pk;
    for (i = 0; i < t->keys.len; i++) {
        struct sm_key *k = t->keys.items[i];
        if (ascii_casecmp(k->name, name) == 0)
            return k;
    }
    return NULL;
}

bool
cols_contain(struct sm_column *const *cols, size_t n, const struct sm_column *c)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (cols[i] == c)
            return true;
    return false;
}

static int
cmp_table_name(const void *a, const void *b)
{
    const struct sm_table *x = *(struct sm_table *const *)a, *y = *(struct sm_table *const *)b;

    return strcmp(x->name, y->name);
}

size_t
schema_tables(const struct schema *s, struct sm_table ***out)
{
    struct sm_table **tables = arena_alloc(s->arena, (s->rels.len + 1) * sizeof *tables);
    size_t iter = 0, n = 0;
    const char *key;
    void *value;

    while (hmap_next(&s->rels, &iter, &key, &value)) {
        struct sm_rel *rel = value;
        if (rel->kind == REL_TABLE)
            tables[n++] = rel->obj;
    }
    qsort(tables, n, sizeof *tables, cmp_table_name);
    *out = tables;
    return n;
}

/* --- mutations ----------------------------------------------------------- */

static bool
key_in_namespace(const struct sm_key *k)
{
    return k->kind == KEY_PRIMARY || k->kind == KEY_UNIQUE;
}

void
schema_add_table(struct schema *s, struct sm_table *t)
{
    rel_put(s, t->name, REL_TABLE, t);
}

void
schema_drop_table(struct schema *s, struct sm_table *t)
{
    /* From the back: drop_key and drop_index edit the lists being walked. */
    while (t->indexes.len)
        schema_drop_index(s, t->indexes.items[t->indexes.len - 1]);
    while (t->keys.len)
        schema_drop_key(s, t, t->keys.items[t->keys.len - 1]);
    if (t->pk)
        schema_set_pk(s, t, NULL);
    rel_del(s, t->name);
}

void
schema_rename_table(struct schema *s, struct sm_table *t, const char *name)
{
    rel_del(s, t->name);
    set_name(s, &t->name, name);
    rel_put(s, name, REL_TABLE, t);
}

void
schema_add_column(struct schema *s, struct sm_table *t, struct sm_column *c, size_t pos)
{
    c->table = t;
    if (t->cols_kept > pos)
        t->cols_kept = pos;
    list_insert(s, &t->cols, pos, c);
    col_put(s, t, c);
}

void
schema_drop_column(struct schema *s, struct sm_table *t, struct sm_column *c)
{
    t->cols_kept = 0;
    list_remove(s, &t->cols, c);
    col_del(s, t, c);
}

void
schema_set_column(struct schema *s, struct sm_column *c, const struct sm_column *now)
{
    bool renamed = strcmp(c->name, now->name) != 0;
    struct sm_undo *u;

    c->table->cols_kept = 0;
    if (renamed)
        col_del(s, c->table, c);
    u = push_undo(s, UNDO_SET_COLUMN);
    u->col = c;
    if (!s->no_log) {
        u->saved = ARENA_NEW(s->arena, struct sm_column);
        *u->saved = *c;
    }
    c->name = now->name;
    c->type = now->type;
    c->not_null = now->not_null;
    c->identity = now->identity;
    c->dflt = now->dflt;
    memcpy(c->declared, now->declared, sizeof c->declared);
    c->span = now->span;
    if (renamed)
        col_put(s, c->table, c);
}

void
schema_set_pk(struct schema *s, struct sm_table *t, struct sm_key *pk)
{
    if (t->pk)
        rel_del(s, t->pk->name);
    set_ptr(s, (void **)&t->pk, pk);
    if (pk)
        rel_put(s, pk->name, REL_KEY, pk);
}

void
schema_add_key(struct schema *s, struct sm_table *t, struct sm_key *k)
{
    list_insert(s, &t->keys, t->keys.len, k);
    if (key_in_namespace(k))
        rel_put(s, k->name, REL_KEY, k);
    if (k->kind == KEY_FOREIGN)
        list_insert(s, &k->ref_table->incoming, k->ref_table->incoming.len, k);
}

void
schema_drop_key(struct schema *s, struct sm_table *t, struct sm_key *k)
{
    if (k->kind == KEY_FOREIGN)
        list_remove(s, &k->ref_table->incoming, k);
    if (key_in_namespace(k))
        rel_del(s, k->name);
    list_remove(s, &t->keys, k);
}

void
schema_add_index(struct schema *s, struct sm_index *ix)
{
    list_insert(s, &ix->table->indexes, ix->table->indexes.len, ix);
    rel_put(s, ix->name, REL_INDEX, ix);
}

void
schema_drop_index(struct schema *s, struct sm_index *ix)
{
    rel_del(s, ix->name);
    list_remove(s, &ix->table->indexes, ix);
}
