/* SPDX-License-Identifier: MIT */
/*
 * walk.c: the check pass's walk over the version tree. Each version is
 * checked (check.c) with the schema model as it stands at its parent: the
 * model is replayed forward through a version, and undone back to a mark
 * when the walk leaves it (schema.h's undo log), so each statement is
 * applied and undone once and checking costs time linear in the plan.
 *
 * It runs after resolve.c even when that pass reported errors (a typo in
 * the dialects should not hide the schema's errors): versions whose base is
 * unknown are marked and skipped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/check.h"
#include "core/strbuf.h"

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
    } * stack;
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
            /* the bottom frame is never undone (there is no sibling to return for): a chain of
             * versions, or the first version's own statements, need no undo log at all */
            schema_set_logging(&ck.schema, depth > 1);
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
    if (p->nlegacy)
        check_legacy_names(p, a, d);
    return (int)(diag_errors(d) - before);
}

/* The key of a foreign key's columns in check_legacy_names()'s map: "T\x1f\x1fa\x1fb". */
static const char *
fk_key(struct arena *a, const char *table, const char *const *cols, size_t n)
{
    struct strbuf b = STRBUF_INIT;
    const char *k;

    strbuf_printf(&b, "%s\x1f\x1f", table);
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&b, "%s%s", i ? "\x1f" : "", cols[i]);
    k = arena_strdup(a, strbuf_str(&b));
    strbuf_free(&b);
    return k;
}

/*
 * A legacy form must name a table, and a column or a foreign key of it, that
 * some version of the plan has: every table state the versions' operations
 * leave is looked at (each snapshot once).
 */
void
check_legacy_names(struct plan *p, struct arena *a, struct diag_sink *d)
{
    struct hmap seen, done;
    size_t i, k, c;

    if (!p->nlegacy)
        return;
    hmap_init(&seen, false);
    hmap_init(&done, false); /* a column array shared by snapshots (ir.h), under a table name ->
                                how many of its columns are in seen: each is looked at once */
    for (i = 0; i < p->nversions; i++) {
        const struct ir_step *s = p->versions[i]->ir;
        const struct snap_table *last = NULL;
        for (k = 0; s && k < s->nops; k++) {
            const struct snap_table *t = s->ops[k]->after;
            const char *buf;
            if (!t || t == last)
                continue;
            last = t;
            hmap_put(&seen, t->name, p);
            buf = arena_printf(a, "%p\x1f%s", (void *)t->colbuf, t->name);
            c = (size_t)(uintptr_t)hmap_get(&done, buf);
            for (c = c < t->ncols ? c : t->ncols; c < t->ncols; c++)
                hmap_put(&seen, arena_printf(a, "%s\x1f%s", t->name, t->cols[c].name), p);
            if (t->ncols > (size_t)(uintptr_t)hmap_get(&done, buf))
                hmap_put(&done, buf, (void *)(uintptr_t)t->ncols);
            for (c = 0; c < t->nkeys; c++)
                if (t->keys[c].kind == KEY_FOREIGN)
                    hmap_put(&seen, fk_key(a, t->name, t->keys[c].cols, t->keys[c].ncols), p);
        }
    }
    for (i = 0; i < p->nlegacy; i++) {
        const struct plan_legacy *l = &p->legacy[i];
        if (!hmap_get(&seen, l->table)) {
            diag_error(d, l->span, "E0320", "legacy form of table \"%s\", which no version has",
                       l->table);
            diag_help(d, "Name a table as the plan's versions create it.");
        } else if (l->column &&
                   !hmap_get(&seen, arena_printf(a, "%s\x1f%s", l->table, l->column))) {
            diag_error(d, l->span, "E0321",
                       "legacy form of column \"%s\" of table \"%s\", which no version has",
                       l->column, l->table);
            diag_help(d, "Name a column as the plan's versions add it.");
        } else if (!l->column && !hmap_get(&seen, fk_key(a, l->table, l->cols, l->ncols))) {
            diag_error(d, l->span, "E0323",
                       "legacy form of a foreign key of table \"%s\" that no version has",
                       l->table);
            diag_help(d, "Give the columns of one of the table's foreign keys, in their order.");
        }
    }
    hmap_free(&seen);
    hmap_free(&done);
}
