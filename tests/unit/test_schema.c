/* SPDX-License-Identifier: MIT */
/* test_schema.c: the schema model's lookups and its undo log (compiler/schema.c). */
#include "tests/unit/unittest.h"

#include <string.h>

#include "compiler/schema.h"

/* A table of ncols int columns c0, c1, ..., added through the model (not yet in the namespace). */
static struct sm_table *
table(struct schema *s, const char *name, int ncols)
{
    struct sm_table *t = ARENA_NEW(s->arena, struct sm_table);
    int i;

    t->name = name;
    for (i = 0; i < ncols; i++) {
        struct sm_column *c = ARENA_NEW(s->arena, struct sm_column);
        c->name = arena_printf(s->arena, "c%d", i);
        c->type.kind = TY_INT;
        schema_add_column(s, t, c, t->cols.len);
    }
    return t;
}

static void
test_schema_lookups_fold_case_in_namespace_only(void **state)
{
    struct arena a;
    struct schema s;
    struct sm_table *t;

    (void)state;
    arena_init(&a);
    schema_init(&s, &a);
    t = table(&s, "Clients", 2);
    schema_add_table(&s, t);
    assert_ptr_equal(schema_table(&s, "Clients"), t);
    assert_null(schema_table(&s, "clients"));   /* exact lookups are case-sensitive */
    assert_non_null(schema_rel(&s, "CLIENTS")); /* the namespace folds case */
    assert_string_equal(schema_rel_name(&s, "cLiEnTs"), "Clients");
    assert_ptr_equal(table_column(t, "c1"), t->cols.items[1]);
    assert_null(table_column(t, "C1"));
    assert_ptr_equal(table_column_fold(t, "C1"), t->cols.items[1]);
    schema_free(&s);
    arena_free(&a);
}

static void
test_schema_undo_restores_every_mutation(void **state)
{
    struct arena a;
    struct schema s;
    struct sm_table *t, *u;
    struct sm_column *c0, now;
    struct sm_key *pk, *fk;
    struct sm_index *ix;
    size_t mark;

    (void)state;
    arena_init(&a);
    schema_init(&s, &a);
    t = table(&s, "T", 3);
    u = table(&s, "U", 2);
    schema_add_table(&s, t);
    schema_add_table(&s, u);
    c0 = t->cols.items[0];
    pk = ARENA_NEW(&a, struct sm_key);
    pk->kind = KEY_PRIMARY;
    pk->name = "PK_T";
    pk->table = t;
    pk->cols = (struct sm_column **)&t->cols.items[0];
    pk->ncols = 1;
    schema_set_pk(&s, t, pk);

    mark = schema_mark(&s);
    /* a version's worth of changes */
    fk = ARENA_NEW(&a, struct sm_key);
    fk->kind = KEY_FOREIGN;
    fk->name = "FK_U_T_c0";
    fk->table = u;
    fk->cols = (struct sm_column **)&u->cols.items[0];
    fk->ncols = 1;
    fk->ref_table = t;
    fk->ref_cols = pk->cols;
    fk->nref = 1;
    schema_add_key(&s, u, fk);
    ix = ARENA_NEW(&a, struct sm_index);
    ix->name = "IX_T_c1";
    ix->table = t;
    ix->cols = (struct sm_column **)&t->cols.items[1];
    ix->ncols = 1;
    schema_add_index(&s, ix);
    now = *c0;
    now.name = "renamed";
    now.type.kind = TY_BIGINT;
    schema_set_column(&s, c0, &now);
    schema_drop_column(&s, t, t->cols.items[2]);
    schema_rename_table(&s, t, "T2");
    schema_drop_table(&s, u);
    schema_drop_table(&s, schema_table(&s, "T2"));
    assert_null(schema_rel(&s, "T2"));
    assert_null(schema_rel(&s, "PK_T"));
    assert_int_equal(t->incoming.len, 0);

    schema_undo_to(&s, mark);
    assert_ptr_equal(schema_table(&s, "T"), t);
    assert_ptr_equal(schema_table(&s, "U"), u);
    assert_null(schema_rel(&s, "T2"));
    assert_null(schema_rel(&s, "IX_T_c1"));
    assert_non_null(schema_rel(&s, "PK_T"));
    assert_ptr_equal(t->pk, pk);
    assert_int_equal(t->cols.len, 3);
    assert_string_equal(c0->name, "c0");
    assert_int_equal(c0->type.kind, TY_INT);
    assert_int_equal(t->indexes.len, 0);
    assert_int_equal(u->keys.len, 0);
    assert_int_equal(t->incoming.len, 0);
    schema_free(&s);
    arena_free(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_lookups_fold_case_in_namespace_only),
        cmocka_unit_test(test_schema_undo_restores_every_mutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
